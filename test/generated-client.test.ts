import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../src/http/app.js';
import { provision, testConfig } from './support/api.js';
import { backends, openStore } from './support/backends.js';

/**
 * What an integrator does: generate a typed client from the served document (openapi-typescript),
 * write code against it (openapi-fetch), type-check that code strictly, and run it against a
 * running server: login, a benefits batch, a groups batch, get, list and delete; users create and
 * list, token refresh and logout, MFA setup and verification (the code computed as an authenticator
 * app would) and the MFA login's submit-code.
 */
const execFileAsync = promisify(execFile);
const WORK = fileURLToPath(new URL('../test-artifacts/generated-client/', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

const PROGRAM = `
import createClient from 'openapi-fetch';
import { Secret, TOTP } from 'otpauth';
import type { components, paths } from './schema.js';

type Groups = components['schemas']['Groups'];
type BenefitCodes = components['schemas']['BenefitCodes'];

const env = (name: string): string => process.env[name] ?? '';
const client = createClient<paths>({ baseUrl: env('BASE_URL'), headers: { 'user-agent': 'OpenAPI-Generator/1.0.0/typescript' } });
const header = { 'vbasoftware-database': env('DATABASE') };

const login = await client.POST('/user-authentication', {
  params: { header: { 'vbasoftware-client-id': env('CLIENT_ID'), 'vbasoftware-client-code': env('CLIENT_CODE'), ...header } },
  headers: { 'x-api-key': env('API_KEY'), authorization: 'Basic ' + Buffer.from(env('USERNAME') + ':' + env('PASSWORD')).toString('base64') },
});
const token: string | undefined = login.data?.data?.authenticationResult?.idToken;
const headers = { 'x-api-key': env('API_KEY'), authorization: 'Bearer ' + token };

const categories = await client.PUT('/benefit-categories-batch', { params: { header }, headers, body: [{ benefit_Category: 'GEN' }] });
const benefit: BenefitCodes = { benefit_Code: 'GEN1', allow_Flat_Tax: false, medicare: 'N', pend_Flag: 'N', benefit_Category: 'GEN' };
const benefits = await client.PUT('/benefits-batch', { params: { header }, headers, body: [benefit, { ...benefit, benefit_Code: 'GEN2', benefit_Category: 'NONE' }] });

const group = (id: string, name: string): Groups => ({
  group_ID: id, name, admin_COBRA: false, advice_To_Pay: false, apply_Ex_Code: false, auth_Not_Reqd_Override: false,
  coPay_Max_Per_Date_Provider: false, default_Process_by_Disability_Date: false, default_Roll_Up_Waiting_Period: false,
  disable_COBRA_Auto_Select: false, duplicate_Claim_Override: false, individual_Billing: false, individual_Cycle: false,
  individual_Dates: false, open_Closed_Enrollment: false, paperless: true, prepaid_Group: false, prorate_Deduction: false,
  self_Admin: false, set_Billing_Due_Date: false, disenroll_Date: '2025-06-30T00:00:00.000Z',
});
const groups = await client.PUT('/groups-batch', { params: { header }, headers, body: [group('GEN G1', 'first'), group('GEN G2', 'second')] });
const fetched = await client.GET('/groups/{groupID}', { params: { header, path: { groupID: 'GEN G1' } }, headers });
const record: Groups | null | undefined = fetched.data?.data;
const listed = await client.GET('/groups', { params: { header, query: { page: 1, pageSize: 10, sortBy: 'name:desc' } }, headers });
const names: (string | null | undefined)[] = (listed.data?.data ?? []).map((entry: Groups) => entry.name);
const deleted = await client.DELETE('/groups/{groupID}', { params: { header, path: { groupID: 'GEN G1' } }, headers });
const gone = await client.GET('/groups/{groupID}', { params: { header, path: { groupID: 'GEN G1' } }, headers });

// Users (the integrator is an administrator), refresh and logout.
type Users = components['schemas']['Users'];
const newUser: Users = {
  user_ID: 'gen-user', eMail_Address: 'gen@example.com', password: 'gen-user-first-password', account_Locked: false,
  administrator: false, audit_User: false, iD_Card_Notification: false, is_SSO_User: false, mfA_Enabled: false,
  nav_ID_Underline: false, single_Use_Account: false, use_Windows_Authentication: false, vbA_Password_Reset: false, vbA_User: true,
};
const createdUser = await client.POST('/users', { params: { header }, headers, body: newUser });
const users = await client.GET('/users', { params: { header, query: { sortBy: 'user_ID' } }, headers });
const keyOnly = { 'vbasoftware-client-id': env('CLIENT_ID'), 'vbasoftware-client-code': env('CLIENT_CODE'), ...header };

// MFA: set up a device, verify it with the code an authenticator app would show (computed here),
// read the status. Away from a 30 s step's edge, so the codes of the last and the current step
// both stay accepted: verify takes the last step's, the MFA login below the current one's.
const into = Date.now() % 30_000;
if (into > 25_000) await new Promise((resolve) => setTimeout(resolve, 30_000 - into + 100));
const accessToken = login.data?.data?.authenticationResult?.accessToken;
const setup = await client.POST('/mfa-setup', { params: { header }, headers, body: { accessToken } });
const secretCode: string = setup.data?.data?.secretCode ?? '';
const code = (timestamp: number) => TOTP.generate({ secret: Secret.fromBase32(secretCode), timestamp });
const verifiedSetup = await client.POST('/mfa-verify-setup', {
  params: { header }, headers, body: { friendlyDeviceName: 'generated phone', accessToken, userCode: code(Date.now() - 30_000) },
});
const mfaStatus = await client.GET('/mfa-status', { params: { header }, headers });
const refreshed = await client.POST('/user-refresh-tokens', {
  params: { header: { ...keyOnly, 'expired-id-token': token ?? '', 'refresh-token': login.data?.data?.authenticationResult?.refreshToken ?? '' } },
  headers: { 'x-api-key': env('API_KEY') },
});
const newToken = refreshed.data?.data?.authenticationResult?.idToken;
const newHeaders = { 'x-api-key': env('API_KEY'), authorization: 'Bearer ' + newToken };
const loggedOut = await client.POST('/logout', { params: { header }, headers: newHeaders });
const afterLogout = await client.GET('/groups', { params: { header }, headers: newHeaders });

// With MFA on, a login answers SOFTWARE_TOKEN_MFA; the code gets the tokens.
const mfaLogin = await client.POST('/user-authentication', {
  params: { header: keyOnly },
  headers: { 'x-api-key': env('API_KEY'), authorization: 'Basic ' + Buffer.from(env('USERNAME') + ':' + env('PASSWORD')).toString('base64') },
});
const submitted = await client.POST('/mfa-submit-code', {
  params: { header: keyOnly },
  headers: { 'x-api-key': env('API_KEY') },
  body: { username: env('USERNAME'), mfaCode: code(Date.now()), session: mfaLogin.data?.data?.session ?? '' },
});

console.log(JSON.stringify({
  login: login.response.status,
  categories: categories.data?.data?.map((entry) => entry.status),
  benefits: benefits.data?.data?.map((entry) => [entry.status, entry.body]),
  groups: groups.data?.data?.map((entry) => [entry.id[0]?.value, entry.status]),
  fetched: [fetched.response.status, record?.name, record?.paperless, record?.disenroll_Date, record?.entry_User],
  listed: [listed.response.status, names, listed.response.headers.get('x-pagination')],
  deleted: deleted.response.status,
  gone: [gone.response.status, gone.error?.error?.status],
  users: [createdUser.response.status, createdUser.data?.data?.vbA_Password_Reset, users.data?.data?.map((entry: Users) => entry.user_ID)],
  refreshed: [refreshed.response.status, typeof newToken, newToken !== token],
  logout: [loggedOut.response.status, afterLogout.response.status],
  mfa: [setup.response.status, /^[A-Z2-7]+$/.test(secretCode), setup.data?.data?.qrCode?.startsWith('data:image/png;base64,'),
    verifiedSetup.response.status, verifiedSetup.data?.data?.status, mfaStatus.data?.data],
  mfaLogin: [mfaLogin.data?.data?.challengeName, submitted.response.status, typeof submitted.data?.data?.authenticationResult?.idToken],
}));
`;

test('a client generated from the served document type-checks and works against a running server', { skip: backends[0]!.skip }, async () => {
  const setup = await backends[0]!.prepare();
  const store = await openStore(setup);
  const app = await buildApp({ store, config: testConfig() });
  try {
    const credentials = await provision(store, 'generated', 'generated', 'integrator');
    await store.registry.query(`UPDATE users SET administrator = true WHERE client_id = 'generated' AND username = 'integrator'`);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const served = await (await fetch(`${base}/openapi.json`)).json();

    await rm(WORK, { recursive: true, force: true });
    await mkdir(WORK, { recursive: true });
    await writeFile(`${WORK}schema.ts`, astToString(await openapiTS(served as never)));
    await writeFile(`${WORK}client.ts`, PROGRAM);

    const typecheck = spawnSync(
      process.execPath,
      [`${ROOT}node_modules/typescript/bin/tsc`, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', `${WORK}client.ts`],
      { encoding: 'utf8', cwd: ROOT },
    );
    assert.equal(typecheck.status, 0, `the generated client does not type-check:\n${typecheck.stdout}${typecheck.stderr}`);

    // Asynchronously: the server answering it runs in this process.
    const run = await execFileAsync(process.execPath, ['--import', 'tsx', `${WORK}client.ts`], {
      cwd: ROOT,
      env: {
        ...process.env,
        BASE_URL: base,
        DATABASE: credentials.database,
        CLIENT_ID: credentials.clientId,
        CLIENT_CODE: credentials.clientCode,
        USERNAME: credentials.username,
        PASSWORD: credentials.password,
        API_KEY: credentials.apiKey,
      },
    });
    assert.deepEqual(JSON.parse(run.stdout), {
      login: 200,
      categories: [201],
      benefits: [[201, 'Created'], [422, 'benefit_Category: no benefit category "NONE" exists']],
      groups: [['GEN G1', 201], ['GEN G2', 201]],
      fetched: [200, 'first', true, '2025-06-30T00:00:00.000Z', 'integrator'],
      listed: [200, ['second', 'first'], '{"TotalCount":2,"TotalPages":1,"CurrentPage":1,"PageSize":10}'],
      deleted: 204,
      gone: [404, 404],
      users: [200, true, ['gen-user', 'integrator']],
      refreshed: [200, 'string', true],
      logout: [204, 401],
      mfa: [200, true, true, 200, 'SUCCESS', true],
      mfaLogin: ['SOFTWARE_TOKEN_MFA', 200, 'string'],
    });
  } finally {
    await app.close();
    await store.close();
    await setup.cleanup();
  }
});
