/** Caps on what a request body may hold, checked on the raw bytes before anything parses it. */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_KEYS = 1_000;
export const MAX_JSON_ITEMS = 1_000;
export const MAX_FORM_FIELDS = 100;
export const MAX_QUERY_PARAMS = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Why a JSON text is too deep or too wide to parse, or null: nested deeper than `maxDepth`, more
 * than `maxKeys` object keys or more than `maxItems` array items in all. One pass over the
 * characters (no surrogate half equals an ASCII delimiter), so a hostile body costs
 * microseconds per kilobyte here instead of a stack overflow or seconds in validation later.
 * Malformed JSON is left to the parser.
 */
export function jsonShapeProblem(
  text: string,
  limits: { maxDepth: number; maxKeys: number; maxItems: number } = {
    maxDepth: MAX_JSON_DEPTH,
    maxKeys: MAX_JSON_KEYS,
    maxItems: MAX_JSON_ITEMS,
  },
): string | null {
  // Whether each open container is an array: commas in arrays separate items.
  const inArray: boolean[] = [];
  let keys = 0;
  let items = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const byte = text.charCodeAt(index);
    if (inString) {
      if (byte === BACKSLASH) index += 1;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      inArray.push(byte === OPEN_ARRAY);
      // An array's first item (an empty array counts one too: a cap, not a census).
      if (byte === OPEN_ARRAY && ++items > limits.maxItems) return tooManyItems(limits.maxItems);
      if (inArray.length > limits.maxDepth) {
        return `JSON may be nested at most ${limits.maxDepth} levels deep.`;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      inArray.pop();
    } else if (byte === COLON) {
      keys += 1;
      if (keys > limits.maxKeys) return `JSON may hold at most ${limits.maxKeys} keys in all.`;
    } else if (byte === COMMA && inArray.at(-1) === true && ++items > limits.maxItems) {
      return tooManyItems(limits.maxItems);
    }
  }
  return null;
}

function tooManyItems(max: number): string {
  return `JSON arrays may hold at most ${max} items in all.`;
}

/** The number of `name=value` pairs in a form-encoded body or a query string (empty ones aside). */
export function countFormFields(text: string): number {
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('&', start);
    const stop = end === -1 ? text.length : end;
    if (stop > start) count += 1;
    if (end === -1) break;
    start = end + 1;
  }
  return count;
}

// In a /u pattern a surrogate pair is one code point, so this matches lone halves only.
const LONE_SURROGATE = /\p{Surrogate}/u;
const ESCAPED_SURROGATE = /\\u[dD][89abcdefABCDEF]/;

/**
 * Whether parsed JSON holds a string (or a key) with a lone UTF-16 surrogate, which only a
 * `\uD800`-style escape can produce. Such a string is not text: validators throw on it (500)
 * and the database refuses it. `raw` lets the common case skip the walk.
 */
export function hasLoneSurrogate(raw: string, value: unknown): boolean {
  if (!ESCAPED_SURROGATE.test(raw)) return false;
  const walk = (item: unknown): boolean => {
    if (typeof item === 'string') return LONE_SURROGATE.test(item);
    if (Array.isArray(item)) return item.some(walk);
    if (typeof item === 'object' && item !== null) {
      return Object.entries(item).some(([key, child]) => LONE_SURROGATE.test(key) || walk(child));
    }
    return false;
  };
  return walk(value);
}
