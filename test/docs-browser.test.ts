import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { buildApp } from '../src/http/app.js';
import type { Store } from '../src/store/store.js';
import { operations } from '../src/http/operation-table.js';
import { provision, testConfig } from './support/api.js';
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

/**
 * A page of headless Chromium next to a server on a fresh embedded store: `provisioned` runs on the
 * store before the app is built; everything is closed and removed afterwards.
 */
async function withDocsPage<T>(
  provisioned: (store: Store) => Promise<T>,
  body: (page: Page, base: string, given: T) => Promise<void>,
): Promise<void> {
  const setup = await backends[0]!.prepare();
  const store = await openStore(setup);
  const given = await provisioned(store);
  const app = await buildApp({ store, config: testConfig() });
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    await body(await browser.newPage({ viewport: { width: 1280, height: 2000 } }), base, given);
  } finally {
    await browser.close();
    await app.close();
    await store.close();
    await setup.cleanup();
  }
}

test('/docs lists every operation and "Try it out" reaches the server', { skip: executablePath ? false : 'Chromium not installed' }, async () => {
  await withDocsPage(async () => undefined, async (page, base) => {
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
    });
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const blocks = await page.locator('.opblock').count();
    // Every documented operation of the table (six per record type, login, health, users, sessions, MFA, the 501 routes), each shown once.
    const documented = operations.filter((operation) => !operation.undocumented).length;
    assert.ok(documented >= 3 * 6 + 3 + 6 + 6 + 6, `${documented}: records, login, health, users, sessions, MFA and the 501 routes`);
    assert.equal(blocks, documented, 'one block per documented operation');
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
  });
});

test('/docs alone: Authentication first; log in from the page, then run a batch, without pasting a token; the database is remembered', { skip: executablePath ? false : 'Chromium not installed' }, async () => {
  await withDocsPage((store) => provision(store, 'docs-client', 'docs'), async (page, base, credentials) => {
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    assert.match(await page.locator('.opblock-tag').first().innerText(), /^Authentication/);
    assert.match(await page.locator('.info .description').innerText(), /How to call this API/);

    // Authorize: the API key and the username/password; the bearer token is left empty.
    await page.locator('.auth-wrapper .authorize').click();
    const scheme = (name: string) => page.locator('.modal-ux .auth-container').filter({ hasText: name });
    await scheme('apiKeyAuth').locator('#api_key_value').fill(credentials.apiKey);
    await scheme('apiKeyAuth').locator('button.authorize').click();
    await scheme('basicAuth').locator('#auth-basic-username').fill(credentials.username);
    await scheme('basicAuth').locator('#auth-basic-password').fill(credentials.password);
    await scheme('basicAuth').locator('button.authorize').click();
    await page.locator('.modal-ux .btn-done').first().click();

    const status = (operation: ReturnType<typeof page.locator>) => operation.locator('.live-responses-table tr.response .response-col_status').first();
    const login = page.locator('#operations-Authentication-UserAuthentication');
    await login.locator('.opblock-summary').click();
    const header = (operation: ReturnType<typeof page.locator>, name: string) => operation.locator(`tr[data-param-name="${name}"] input`);
    await header(login, 'vbasoftware-client-id').fill(credentials.clientId);
    await header(login, 'vbasoftware-client-code').fill(credentials.clientCode);
    await header(login, 'vbasoftware-database').fill(credentials.database);
    await login.getByRole('button', { name: 'Execute' }).click();
    await status(login).waitFor({ timeout: 15_000 });
    assert.match(await status(login).innerText(), /200/, await login.locator('.responses-wrapper').innerText());

    // The batch: the database header is already filled in, the token was taken from the login.
    const batch = page.locator('#operations-BenefitCategories-CreateOrUpdateBatchBenefitCategories');
    await batch.locator('.opblock-summary').click();
    assert.equal(await header(batch, 'vbasoftware-database').inputValue(), credentials.database);
    await batch.locator('.body-param textarea').fill('[{"benefit_Category": "MEDICAL", "description": "Medical"}]');
    await batch.getByRole('button', { name: 'Execute' }).click();
    await status(batch).waitFor({ timeout: 15_000 });
    assert.match(await status(batch).innerText(), /207/);
    assert.match(await batch.locator('.live-responses-table tr.response .response-col_description').first().innerText(), /"status": 201/);
    await page.screenshot({ path: `${ARTIFACTS}docs-batch.png`, fullPage: false });

    // A later visit: still authorized (persistAuthorization) and the database still filled in.
    await page.reload();
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const get = page.locator('#operations-BenefitCategories-GetBenefitCategory');
    await get.locator('.opblock-summary').click();
    assert.equal(await header(get, 'vbasoftware-database').inputValue(), credentials.database);
    await get.locator('tr[data-param-name="benefitCategory"] input').fill('MEDICAL');
    await get.getByRole('button', { name: 'Execute' }).click();
    await status(get).waitFor({ timeout: 15_000 });
    assert.match(await status(get).innerText(), /200/);
  });
});
