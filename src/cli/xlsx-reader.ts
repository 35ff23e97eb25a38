import ExcelJS from 'exceljs';

/**
 * exceljs's streaming workbook reader, decoding each XML part of the workbook as one UTF-8 text.
 *
 * exceljs (4.4.0) hands the parts to its XML parser chunk by chunk as they are inflated, and
 * decodes each chunk on its own (`lib/utils/parse-sax.js`): a character whose UTF-8 bytes straddle
 * two chunks comes out as U+FFFD replacement characters. Text is silently corrupted, or grows past
 * its field's length and the row is refused — which row depends only on where the ~16 KiB chunk
 * boundaries fall (exceljs issue #2084; fixes proposed upstream, not released). Here every part
 * reaches the parser as text already decoded across chunks: the parts read from their zip entry
 * get the entry's own stream decoder, the worksheets (also read back from a temporary file when
 * they come before the shared strings) go through one streaming decoder each.
 */
type WorkbookReader = InstanceType<typeof ExcelJS.stream.xlsx.WorkbookReader>;

/** A zip entry as exceljs receives it from its unzipper: a Node readable stream. */
interface Entry {
  setEncoding(encoding: BufferEncoding): unknown;
}

/** The reader's methods that take a part of the workbook (not in exceljs's typings). */
interface PartParsers {
  _parseRels(entry: Entry): Promise<void>;
  _parseWorkbook(entry: Entry): Promise<void>;
  _parseSharedStrings(entry: Entry): AsyncIterable<unknown>;
  _parseStyles(entry: Entry): Promise<void>;
  _parseWorksheet(chunks: AsyncIterable<Buffer | string>, sheetNo: string): Iterable<unknown>;
}

const Base = ExcelJS.stream.xlsx.WorkbookReader as unknown as new (...args: ConstructorParameters<typeof ExcelJS.stream.xlsx.WorkbookReader>) => WorkbookReader & PartParsers;

// Fail loudly if an exceljs upgrade renamed what is overridden below, rather than corrupt text again.
for (const name of ['_parseRels', '_parseWorkbook', '_parseSharedStrings', '_parseStyles', '_parseWorksheet'] as const) {
  if (typeof Base.prototype[name] !== 'function') throw new Error(`exceljs changed: WorkbookReader.${name} is gone; review src/cli/xlsx-reader.ts`);
}

export class Utf8WorkbookReader extends Base {
  override _parseRels(entry: Entry) {
    entry.setEncoding('utf8');
    return super._parseRels(entry);
  }

  override _parseWorkbook(entry: Entry) {
    entry.setEncoding('utf8');
    return super._parseWorkbook(entry);
  }

  override _parseSharedStrings(entry: Entry) {
    entry.setEncoding('utf8');
    return super._parseSharedStrings(entry);
  }

  override _parseStyles(entry: Entry) {
    entry.setEncoding('utf8');
    return super._parseStyles(entry);
  }

  override _parseWorksheet(chunks: AsyncIterable<Buffer | string>, sheetNo: string) {
    return super._parseWorksheet(decodeUtf8(chunks), sheetNo);
  }
}

/** Bytes → text with one decoder for the whole stream, so a character split between chunks stays whole. */
export async function* decodeUtf8(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}
