// The metric names a PromQL expression (or a Grafana query) selects, for the shipping tests:
// every name an alert or a dashboard uses must be one the app exports.

/** Words that are never metric names: aggregations, binary operators, modifiers, constants. */
const KEYWORDS = new Set([
  // aggregation operators
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk',
  'topk', 'quantile', 'limitk', 'limit_ratio',
  // binary operators and modifiers
  'and', 'or', 'unless', 'atan2', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left',
  'group_right', 'offset',
  // number literals
  'inf', 'nan',
]); // prettier-ignore

/** Keywords followed by a parenthesised list of label names. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENT = /[A-Za-z_:][A-Za-z0-9_:]*/y;

/** The index just past the bracket that closes the one at `start` (quotes respected). */
function skipBracket(expr: string, start: number): number {
  const close: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
  const stack = [close[expr[start]]];
  let i = start + 1;
  while (i < expr.length && stack.length > 0) {
    const char = expr[i];
    if (char === '"' || char === "'" || char === '`') i = skipString(expr, i);
    else {
      if (char in close) stack.push(close[char]);
      else if (char === stack[stack.length - 1]) stack.pop();
      i += 1;
    }
  }
  if (stack.length > 0) throw new Error(`unbalanced brackets in: ${expr}`);
  return i;
}

function skipString(expr: string, start: number): number {
  const quote = expr[start];
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
  if (i >= expr.length) throw new Error(`unterminated string in: ${expr}`);
  return i + 1;
}

function nextNonSpace(expr: string, from: number): number {
  let i = from;
  while (i < expr.length && /\s/.test(expr[i])) i += 1;
  return i;
}

/**
 * Metric names in a PromQL expression. Skips what sits inside `{…}` (label matchers) and
 * `[…]` (ranges, subqueries), strings, numbers and durations, Grafana variables (`$x`,
 * `${x}`), function names (an identifier followed by `(`), keywords, and the label lists after
 * by/without/on/ignoring/group_left/group_right.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const char = expr[i];
    if (char === '{' || char === '[') i = skipBracket(expr, i);
    else if (char === '"' || char === "'" || char === '`') i = skipString(expr, i);
    else if (char === '$')
      i = expr[i + 1] === '{' ? skipBracket(expr, i + 1) : skipWord(expr, i + 1);
    else if (/[0-9.]/.test(char))
      i = skipWord(expr, i); // numbers, 1e3, durations like 5m
    else if (/[A-Za-z_:]/.test(char)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(expr)?.[0] ?? char;
      i += word.length;
      const after = nextNonSpace(expr, i);
      if (LABEL_LISTS.has(word) && expr[after] === '(') i = skipBracket(expr, after);
      else if (!KEYWORDS.has(word) && expr[after] !== '(') names.add(word);
    } else i += 1;
  }
  return [...names];
}

function skipWord(expr: string, from: number): number {
  let i = from;
  while (i < expr.length && /[A-Za-z0-9_.]/.test(expr[i])) i += 1;
  return Math.max(i, from + 1);
}

/** Grafana's `label_values(<selector>, <label>)`: the selector's names; else the expression's. */
export function grafanaQueryNames(query: string): string[] {
  const labelValues = /^\s*label_values\(\s*(.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query);
  return metricNames(labelValues ? labelValues[1] : query);
}

/**
 * The series names a scrape offers, from its `# TYPE` lines (prom-client prints no sample for a
 * labelled metric that has none yet): histograms as `_bucket`, `_sum` and `_count`.
 */
export function exportedSeries(text: string): Set<string> {
  const series = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else if (type === 'summary')
      for (const suffix of ['', '_sum', '_count']) series.add(name + suffix);
    else series.add(name);
  }
  return series;
}
