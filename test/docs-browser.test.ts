import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildApp } from '../src/http/app.js';
import { testConfig } from './support/api.js';
import { backends, openStore } from './support/backends.js';

/**
 * Headless Chromium from Debian's package (CI installs it; nothing is downloaded) opens /docs,
 * sees every operation, runs one with "Try it out", and keeps a screenshot as an artifact.
 */
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const executablePath = (() => {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
if (!executablePath) {
  if (process.env.CI === 'true') throw new Error('Chromium is not installed: .ci/run installs Debian\'s "chromium" package');
  console.warn('\n!!! Chromium not found (apt-get install chromium): SKIPPING the /docs browser test. !!!\n');
}

test('/docs lists every operation and "Try it out" reaches the server', { skip: executablePath ? false : 'Chromium not installed' }, async () => {
  const setup = await backends[0]!.prepare();
  const store = await openStore(setup);
  const app = await buildApp({ store, config: testConfig() });
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const operations = await page.locator('.opblock').count();
    assert.equal(operations, 3 * 6 + 3, 'six operations per record type, login, liveness and readiness');
    assert.ok(await page.getByText('/groups-batch', { exact: true }).count());

    const health = page.locator('#operations-Health-GetHealth');
    await health.locator('.opblock-summary').click();
    // "Try it out" is on from the start (tryItOutEnabled), so Execute is there at once.
    await health.getByRole('button', { name: 'Execute' }).click();
    await health.locator('.live-responses-table tr.response .response-col_status').first().waitFor({ timeout: 15_000 });
    assert.match(await health.locator('.live-responses-table tr.response .response-col_status').first().innerText(), /200/);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}docs.png`, fullPage: false });
    assert.deepEqual(outside, [], 'every asset comes from the server itself');
  } finally {
    await browser.close();
    await app.close();
    await store.close();
    await setup.cleanup();
  }
});
