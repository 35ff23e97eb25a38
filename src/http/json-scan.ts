/**
 * A byte-level pass over JSON text as it arrives, before anything is parsed: it counts what
 * JSON.parse would build (values, and the items of a top-level array) and tracks nesting depth,
 * so a body that would build millions of objects is refused while it is read, not after the heap
 * has filled. It also marks where each item of a top-level array ends, so a batch can be parsed
 * piece by piece as it arrives (http/body.ts). It does not validate: JSON.parse still has the last
 * word on well-formed input.
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

/** Where the last write's bytes end items of the top-level array. */
export interface ItemEnds {
  /** Offsets, in the bytes written, of each `,` between top-level items and of the array's closing `]`. */
  readonly offsets: number[];
  /** The top-level items begun up to each of those offsets. */
  readonly items: number[];
  /** The offset of the top-level value's closing bracket in these bytes, or -1. */
  closedAt: number;
}

export class JsonScanner {
  /** Values JSON.parse would create: objects, arrays, strings, numbers, literals (object keys excluded). */
  values = 0;
  /** Of those, objects and arrays (the expensive ones to build). */
  containers = 0;
  /** Items of the top-level value when it is an array (a batch's records). */
  topLevelItems = 0;
  /** True once depth has passed the limit; the scanner then stops counting. */
  tooDeep = false;
  /** The offset of the top-level array's opening `[` in the last write, when that write held it; else -1. */
  openedAt = -1;
  /** Reset by every write. */
  readonly itemEnds: ItemEnds = { offsets: [], items: [], closedAt: -1 };

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
    this.itemEnds.offsets.length = 0;
    this.itemEnds.items.length = 0;
    this.itemEnds.closedAt = -1;
    this.openedAt = -1;
    if (this.tooDeep) return false;
    let { depth, inString, escaped, expectingValue, values, containers, topLevelItems } = this;
    const enclosing = this.enclosing;
    const length = bytes.length;
    for (let index = 0; index < length; index++) {
      if (inString) {
        // Most of a body's bytes are inside strings: jump to the next quote natively, then look back
        // at the backslashes before it (an odd run escapes it).
        if (escaped) {
          escaped = false;
          continue;
        }
        const quote = bytes.indexOf(QUOTE, index);
        const end = quote === -1 ? length : quote;
        let backslashes = 0;
        while (end - backslashes - 1 >= index && bytes[end - backslashes - 1] === BACKSLASH) backslashes++;
        if (quote === -1) {
          escaped = backslashes % 2 === 1;
          break;
        }
        index = quote; // the loop's increment steps past it
        if (backslashes % 2 === 0) inString = false;
        continue;
      }
      const byte = bytes[index]!;
      // Whitespace and the bytes inside a number or literal after its first one change nothing.
      if (byte <= 0x20) continue;
      if (byte === COMMA) {
        const inArray = enclosing[depth] === IN_ARRAY;
        expectingValue = inArray;
        if (depth === 1 && inArray) this.itemEnd(index, topLevelItems);
        continue;
      }
      if (byte === COLON) {
        expectingValue = true;
        continue;
      }
      if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
        if (depth === 1) {
          this.itemEnds.closedAt = index;
          if (enclosing[1] === IN_ARRAY) this.itemEnd(index, topLevelItems);
        }
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
        if (depth === 1 && byte === OPEN_ARRAY) this.openedAt = index;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.expectingValue = expectingValue;
    this.values = values;
    this.containers = containers;
    this.topLevelItems = topLevelItems;
    return !this.tooDeep;
  }

  private itemEnd(offset: number, items: number): void {
    this.itemEnds.offsets.push(offset);
    this.itemEnds.items.push(items);
  }
}
