import type { ItemEnds, JsonScanner } from './json-scan.js';

const CLOSE_ARRAY = 0x5d;

/** JSON's own whitespace: anything else outside a value makes the text invalid. */
const isJsonWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

function onlyWhitespace(bytes: Uint8Array, from = 0, to = bytes.length): boolean {
  for (let index = from; index < to; index++) if (!isJsonWhitespace(bytes[index]!)) return false;
  return true;
}

/**
 * A body's JSON value, built as its bytes arrive: a top-level array (every batch) piece by piece
 * (ArrayItems), anything else kept as bytes and parsed whole at the end. Each chunk must first
 * have been written to `scanner`, whose view of it this reads. Throws SyntaxError for invalid text
 * (at once where it can tell, else at the end).
 */
export class IncrementalJson {
  private whole: Buffer[] = [];
  private array: ArrayItems | null = null;

  constructor(private readonly scanner: JsonScanner, private readonly pieceBytes: number) {}

  write(chunk: Buffer): void {
    if (this.array) return this.array.write(chunk, 0, this.scanner.itemEnds);
    const opened = this.scanner.openedAt;
    if (opened < 0) return void this.whole.push(chunk);
    // The top-level array opens in this chunk: nothing but whitespace may come before its bracket.
    if (!this.whole.every((piece) => onlyWhitespace(piece)) || !onlyWhitespace(chunk, 0, opened)) throw new SyntaxError('text before the array');
    this.whole = [];
    this.array = new ArrayItems(this.pieceBytes);
    this.array.write(chunk, opened + 1, this.scanner.itemEnds);
  }

  /** The value (undefined for an empty body). */
  end(): unknown {
    if (this.array) return this.array.end();
    const bytes = this.whole.length === 1 ? this.whole[0]! : Buffer.concat(this.whole);
    this.whole = [];
    return bytes.length === 0 ? undefined : JSON.parse(bytes.toString('utf8'));
  }

  /** Forgets everything read. */
  drop(): void {
    this.whole = [];
    this.array?.drop();
    this.array = null;
  }
}

/**
 * The items of a top-level JSON array, parsed piece by piece while the body arrives: its bytes are
 * cut where the scanner (json-scan.ts) saw an item end, each piece of at least `pieceBytes` is
 * parsed as `[piece]`, and its bytes are let go. The body is never held whole, as bytes or as one
 * string, and parsing overlaps the upload instead of following it.
 *
 * Valid text gives exactly what JSON.parse of the whole would. Invalid text is refused: each piece
 * is parsed by JSON.parse and must hold as many items as the scanner counted in it, at least one
 * (a list of valid pieces joined by commas is a valid list), and nothing but whitespace may follow
 * the closing bracket.
 */
export class ArrayItems {
  readonly items: unknown[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Items in the pieces parsed so far, as the scanner counted them. */
  private counted = 0;
  private cutAtComma = false;
  private closed = false;

  constructor(private readonly pieceBytes: number) {}

  /**
   * The next bytes of the body, from `from` (past the opening bracket in its chunk), with where the
   * scanner saw items end in them. Throws SyntaxError when the text cannot be a JSON array.
   */
  write(chunk: Buffer, from: number, ends: ItemEnds): void {
    if (this.closed) {
      if (!onlyWhitespace(chunk, from)) throw new SyntaxError('text after the array');
      return;
    }
    let start = from;
    for (let index = 0; index < ends.offsets.length; index++) {
      const offset = ends.offsets[index]!;
      const closing = offset === ends.closedAt;
      if (!closing && this.pendingBytes + offset - start < this.pieceBytes) continue;
      this.pending.push(chunk.subarray(start, offset));
      this.parse(ends.items[index]! - this.counted, closing);
      this.counted = ends.items[index]!;
      this.cutAtComma = !closing;
      start = offset + 1;
      if (closing) {
        if (chunk[offset] !== CLOSE_ARRAY) throw new SyntaxError('the array closed with a brace');
        this.closed = true;
        if (!onlyWhitespace(chunk, start)) throw new SyntaxError('text after the array');
        return;
      }
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
  }

  /** The items, once the body has ended; throws SyntaxError when the array never closed. */
  end(): unknown[] {
    if (!this.closed) throw new SyntaxError('the array is not closed');
    return this.items;
  }

  /** Forgets everything read (a batch refused for its size is not built). */
  drop(): void {
    this.pending = [];
    this.items.length = 0;
  }

  private parse(expected: number, closing: boolean): void {
    const text = (this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending)).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    if (expected === 0) {
      // Only `[]` (whitespace inside) has an empty piece: one after a comma, or before one, is an empty item.
      if (closing && !this.cutAtComma && this.counted === 0 && /^[ \t\n\r]*$/.test(text)) return;
      throw new SyntaxError('an empty array item');
    }
    const items = JSON.parse(`[${text}]`) as unknown[];
    if (items.length !== expected) throw new SyntaxError('the items are not separated as counted');
    for (const item of items) this.items.push(item);
  }
}
