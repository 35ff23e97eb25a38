import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BodyBudget } from '../src/http/body-budget.js';
import { IncrementalJson } from '../src/http/json-items.js';
import { JsonScanner } from '../src/http/json-scan.js';

/** What JSON.parse builds: every value (object keys excluded) and, of those, objects and arrays. */
function census(value: unknown): { values: number; containers: number } {
  if (value === null || typeof value !== 'object') return { values: 1, containers: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.map(census).reduce((sum, child) => ({ values: sum.values + child.values, containers: sum.containers + child.containers }), { values: 1, containers: 1 });
}

const DOCUMENTS = [
  '[]',
  '{}',
  '42',
  '"text"',
  '[{},{},[]]',
  ' [ 1 , -2.5e3 , true , false , null , "a" ] ',
  '[{"group_ID":"A","name":"x, y: [z] {w}"},{"notes":"quote \\" backslash \\\\ ] }"}]',
  '{"a":{"b":[1,{"c":"\\u005b"}]},"d":"é中😀"}',
  '[[["deep"]],{"k":[{"k":[]}]}]',
  '[{"key":"\\\\"},"\\\\\\""]',
];

describe('JsonScanner counts what JSON.parse would build, before it is built', () => {
  for (const text of DOCUMENTS) {
    test(text.trim().slice(0, 50), () => {
      const parsed = JSON.parse(text) as unknown;
      const expected = census(parsed);
      // Whole, and one byte at a time: the state carries across chunk boundaries (even inside a character).
      for (const chunkSize of [Infinity, 1, 3]) {
        const scanner = new JsonScanner(32);
        const bytes = Buffer.from(text);
        for (let start = 0; start < bytes.length; start += Math.min(chunkSize, bytes.length)) {
          assert.equal(scanner.write(bytes.subarray(start, start + Math.min(chunkSize, bytes.length))), true);
        }
        assert.equal(scanner.values, expected.values, `values, chunks of ${chunkSize}`);
        assert.equal(scanner.containers, expected.containers, `containers, chunks of ${chunkSize}`);
        assert.equal(scanner.topLevelItems, Array.isArray(parsed) ? parsed.length : 0, `items, chunks of ${chunkSize}`);
      }
    });
  }

  test('nesting past the limit stops the scan; brackets inside strings do not count', () => {
    const scanner = new JsonScanner(3);
    assert.equal(scanner.write(Buffer.from('[["[[[[[[",{"a":"{{{{"}]]')), true);
    assert.equal(new JsonScanner(3).write(Buffer.from('[[[[1]]]]')), false);
    const split = new JsonScanner(2);
    assert.equal(split.write(Buffer.from('[[')), true);
    assert.equal(split.write(Buffer.from('[')), false);
    assert.equal(split.tooDeep, true);
  });
});

describe('BodyBudget', () => {
  test('takes while there is room, queues first come first served, gives up after the wait', async () => {
    const budget = new BodyBudget(100, 200);
    assert.equal(await budget.take(60), true);
    const second = budget.take(60); // does not fit: waits
    const third = budget.take(10); // would fit, but waits its turn behind the second
    let thirdDone = false;
    void third.then(() => (thirdDone = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(thirdDone, false);
    budget.give(60);
    assert.equal(await second, true);
    assert.equal(await third, true);
    assert.equal(budget.inUse, 70);
    const started = performance.now();
    assert.equal(await budget.take(50), false, 'no room within the wait');
    assert.ok(performance.now() - started >= 150);
    budget.give(70);
    assert.equal(budget.inUse, 0);
  });

  test('a request alone always gets its bytes, even more than the budget', async () => {
    const budget = new BodyBudget(10, 50);
    assert.equal(await budget.take(1000), true);
    assert.equal(await budget.take(1), false);
    budget.give(1000);
    assert.equal(await budget.take(1), true);
  });
});

/** A body as http/body.ts reads it: each chunk scanned, then handed to IncrementalJson. */
function readInChunks(text: string, chunkSize: number, pieceBytes: number): unknown {
  const bytes = Buffer.from(text);
  const scanner = new JsonScanner(32);
  const value = new IncrementalJson(scanner, pieceBytes);
  for (let start = 0; start < bytes.length; start += chunkSize) {
    const chunk = bytes.subarray(start, start + chunkSize);
    assert.equal(scanner.write(chunk), true);
    value.write(chunk);
  }
  return value.end();
}

describe('IncrementalJson: a top-level array parsed piece by piece as it arrives', () => {
  const batch = JSON.stringify(Array.from({ length: 200 }, (_, index) => ({ group_ID: `G${index}`, name: `a, "b" [${index}] {c} \\ é中😀`, n: index, ok: null })));
  const valid = [...DOCUMENTS, batch, ' \n[ {"a":1} ,\t{"b":[2,3]} ]\r\n', '[ ]', '[[],[[]],{}]', '["]","[","\\\\",","]'];
  for (const text of valid) {
    test(`same value as JSON.parse: ${text.trim().slice(0, 40)}`, () => {
      const expected = JSON.parse(text) as unknown;
      // Pieces of one item each up to the whole, in chunks of 1 byte, 7 bytes and everything at once.
      for (const chunkSize of [1, 7, 1 << 20]) {
        for (const pieceBytes of [0, 50, 1 << 20]) {
          assert.deepEqual(readInChunks(text, chunkSize, pieceBytes), expected, `chunks of ${chunkSize}, pieces of ${pieceBytes}`);
        }
      }
    });
  }

  const invalid = [
    '[1,]', '[,1]', '[1,,2]', '[1 2]', '[{"a":1}{"b":2}]', '[1]]', '[1] x', '[1] [2]', ':[1]', 'x[1]', '[1', '[', '[{"a":1}',
    '[ , ]', '[1,\u0001 2]', '[1}', '["a]', '[\u00002]', '\ufeff[1]',
  ];
  for (const text of invalid) {
    test(`refused like JSON.parse: ${JSON.stringify(text)}`, () => {
      assert.throws(() => JSON.parse(text));
      for (const chunkSize of [1, 3, 1 << 20]) {
        for (const pieceBytes of [0, 1 << 20]) {
          assert.throws(() => readInChunks(text, chunkSize, pieceBytes), SyntaxError, `chunks of ${chunkSize}, pieces of ${pieceBytes}`);
        }
      }
    });
  }

  test('an empty body is no value', () => {
    assert.equal(readInChunks('', 1, 0), undefined);
  });
});
