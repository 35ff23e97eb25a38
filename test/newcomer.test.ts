import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../src/cli/logger.js';
import { progress } from '../src/cli/progress.js';
import { startApi } from './support/api.js';
import { backends } from './support/backends.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

test('GET /: an index in the envelope for programs, a redirect to /docs for browsers', async () => {
  const api = await startApi(backends[0]!);
  try {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const response = await api.app.inject({ url: '/', headers: accept ? { accept } : {} });
      assert.equal(response.statusCode, 200, String(accept));
      const body = JSON.parse(response.body);
      assert.deepEqual(body.data, { name: 'vbapi-server', version, links: { docs: '/docs', openapi: '/openapi.json', health: '/healthz' } });
      assert.equal(body.error, null);
      assert.match(body.debug.activityID, /^[0-9a-f-]{36}$/);
    }
    const browser = await api.app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    assert.equal(browser.statusCode, 302);
    assert.equal(browser.headers.location, '/docs');
  } finally {
    await api.stop();
  }
});

/** A writable that keeps what it is given and may say it is a terminal. */
function capture(isTTY: boolean): Writable & { isTTY: boolean; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return Object.assign(stream, { isTTY, text: () => text });
}

test('logs: readable lines on a terminal, JSON otherwise, LOG_FORMAT forces either', () => {
  const cases = [
    { format: 'auto', tty: true, pretty: true },
    { format: 'auto', tty: false, pretty: false },
    { format: 'json', tty: true, pretty: false },
    { format: 'pretty', tty: false, pretty: true },
  ] as const;
  for (const { format, tty, pretty } of cases) {
    const out = capture(tty);
    createLogger({ logLevel: 'info', logFormat: format }, out).info({ activityID: 'a1' }, 'hello there');
    const line = out.text();
    assert.equal(line.trim().split('\n').length, 1, `${format}/${tty}: one line per event`);
    if (pretty) {
      assert.match(line, /INFO.*hello there.*"activityID":"a1"/, `${format}/${tty}`);
      assert.throws(() => JSON.parse(line));
    } else {
      assert.deepEqual([JSON.parse(line).msg, JSON.parse(line).activityID], ['hello there', 'a1'], `${format}/${tty}`);
    }
  }
});

test('progress: silent for a quick step; a slow one says so, then again while it lasts, then when it ends', async () => {
  const quiet: string[] = [];
  progress('doing a quick thing', (line) => quiet.push(line), { firstAfterMs: 200 })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(quiet, []);

  const lines: string[] = [];
  const done = progress('creating database "demo"', (line) => lines.push(line), { firstAfterMs: 50, everyMs: 100 });
  await new Promise((resolve) => setTimeout(resolve, 400));
  done();
  assert.equal(lines[0], 'creating database "demo"…');
  assert.match(lines[1]!, /^still creating database "demo" \(\d+\.\d s\)$/);
  assert.match(lines.at(-1)!, /^creating database "demo": done in \d+\.\d s$/);
  const count = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(lines.length, count, 'nothing after the end');
});
