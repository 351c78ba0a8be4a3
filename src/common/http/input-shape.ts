/** Caps on what a request body may hold, checked on the raw bytes before anything parses it. */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_KEYS = 1_000;
export const MAX_FORM_FIELDS = 100;
export const MAX_QUERY_PARAMS = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;

/**
 * Why a JSON text is too deep or too wide to parse, or null. One pass over the characters
 * (no surrogate half equals an ASCII delimiter), so a hostile body costs microseconds per
 * kilobyte here instead of a stack overflow or seconds in validation later. Malformed JSON is
 * left to the parser.
 */
export function jsonShapeProblem(
  text: string,
  limits: { maxDepth: number; maxKeys: number } = {
    maxDepth: MAX_JSON_DEPTH,
    maxKeys: MAX_JSON_KEYS,
  },
): string | null {
  let depth = 0;
  let keys = 0;
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
      depth += 1;
      if (depth > limits.maxDepth) {
        return `JSON may be nested at most ${limits.maxDepth} levels deep.`;
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth -= 1;
    } else if (byte === COLON) {
      keys += 1;
      if (keys > limits.maxKeys) return `JSON may hold at most ${limits.maxKeys} keys in all.`;
    }
  }
  return null;
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
