import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ExcelJS from 'exceljs';
import { openSource } from '../src/cli/sources.js';
import { decodeUtf8 } from '../src/cli/xlsx-reader.js';
import { group } from '../src/entities/index.js';
import { wideText } from './support/records.js';

/**
 * XLSX text with 2-, 3- and 4-byte UTF-8 characters reads back exactly, wherever the reader's
 * inflated chunks (about 16 KiB) happen to cut a character: exceljs alone decodes each chunk on its
 * own and turns such a character into U+FFFD (a dozen rows of these files before the fix).
 */
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vbapi-xlsx-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('one decoder for the whole stream keeps a character cut at any byte whole', async () => {
  const text = `a${wideText(10)}z`;
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const second of [cut, Math.min(bytes.length, cut + 1), Math.min(bytes.length, cut + 2)]) {
      const parts = [bytes.subarray(0, cut), bytes.subarray(cut, second), bytes.subarray(second)];
      let decoded = '';
      for await (const piece of decodeUtf8((async function* () { yield* parts; })())) decoded += piece;
      assert.equal(decoded, text, `cut at ${cut} and ${second}`);
    }
  }
});

const ROWS = 3000;
const nameOf = (row: number) => wideText(50, row); // the field's maximum length, in code points
const notesOf = (row: number) => wideText(37 + (row % 41), row * 7);

for (const sharedStrings of [false, true]) {
  // Inline strings are what `vbapi export` writes; shared strings are what Excel writes (read from a
  // temporary file when the worksheet comes first in the zip, as in this streamed file).
  test(`an import reads every character of ${ROWS} rows of multi-byte text (${sharedStrings ? 'shared' : 'inline'} strings)`, async () => {
    const file = join(dir, `wide-${sharedStrings ? 'shared' : 'inline'}.xlsx`);
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: createWriteStream(file), useSharedStrings: sharedStrings, useStyles: false });
    const sheet = workbook.addWorksheet(`groupes ${wideText(5)}`);
    sheet.addRow(['group_ID', 'name', 'notes']).commit();
    for (let row = 0; row < ROWS; row++) sheet.addRow([`W${row}`, nameOf(row), notesOf(row)]).commit();
    sheet.commit();
    await workbook.commit();

    const source = await openSource(group, file, 'xlsx', { sheet: `groupes ${wideText(5)}` });
    let count = 0;
    for await (const input of source.rows) {
      assert.ok('record' in input, JSON.stringify(input));
      const index = input.row - 2;
      assert.deepEqual(input.record, { group_ID: `W${index}`, name: nameOf(index), notes: notesOf(index) }, `row ${input.row}`);
      count++;
    }
    assert.equal(count, ROWS);
  });
}
