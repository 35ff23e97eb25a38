/**
 * A byte-level pass over JSON text as it arrives, before anything is parsed: it counts what
 * JSON.parse would build (values, and the items of a top-level array) and tracks nesting depth,
 * so a body that would build millions of objects is refused while it is read, not after the heap
 * has filled. It does not validate: JSON.parse still has the last word on well-formed input.
 *
 * Working on UTF-8 bytes is safe: every byte of a multi-byte character is >= 0x80, so it can never
 * be mistaken for a quote, a bracket or a comma.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const IN_ARRAY = 1;
const IN_OBJECT = 2;

export class JsonScanner {
  /** Values JSON.parse would create: objects, arrays, strings, numbers, literals (object keys excluded). */
  values = 0;
  /** Of those, objects and arrays (the expensive ones to build). */
  containers = 0;
  /** Items of the top-level value when it is an array (a batch's records). */
  topLevelItems = 0;
  /** True once depth has passed the limit; the scanner then stops counting. */
  tooDeep = false;

  private depth = 0;
  /** What encloses each open level: IN_ARRAY or IN_OBJECT (index = depth). */
  private readonly enclosing: Uint8Array;
  private inString = false;
  private escaped = false;
  /** The next token starts a value (true at the start, after `[`, `:`, and `,` in an array). */
  private expectingValue = true;

  constructor(private readonly maxDepth: number) {
    this.enclosing = new Uint8Array(maxDepth + 2);
  }

  /** Feeds the next bytes; returns false (and sets tooDeep) once the nesting passes maxDepth. */
  write(bytes: Uint8Array): boolean {
    if (this.tooDeep) return false;
    let { depth, inString, escaped, expectingValue, values, containers, topLevelItems } = this;
    const enclosing = this.enclosing;
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        continue;
      }
      // Whitespace and the bytes inside a number or literal after its first one change nothing.
      if (byte <= 0x20) continue;
      if (byte === COMMA) {
        expectingValue = enclosing[depth] === IN_ARRAY;
        continue;
      }
      if (byte === COLON) {
        expectingValue = true;
        continue;
      }
      if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
        if (depth > 0) depth--;
        expectingValue = false;
        continue;
      }
      if (byte === QUOTE) inString = true;
      if (!expectingValue) continue; // an object key, or the rest of a number/literal
      expectingValue = false;
      values++;
      if (depth === 1 && enclosing[1] === IN_ARRAY) topLevelItems++;
      if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
        containers++;
        if (++depth > this.maxDepth) {
          this.tooDeep = true;
          break;
        }
        enclosing[depth] = byte === OPEN_ARRAY ? IN_ARRAY : IN_OBJECT;
        expectingValue = byte === OPEN_ARRAY;
      }
    }
    Object.assign(this, { depth, inString, escaped, expectingValue, values, containers, topLevelItems });
    return !this.tooDeep;
  }
}
