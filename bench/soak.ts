/**
 * `npm run soak`: a bounded run (SOAK_SECONDS per store, default 60) of everything at once against
 * `vbapi serve` on each store: 16 writers sending overlapping batches, 2 fuzzers sending garbage,
 * and attackers: another client flooding wrong-password logins, writes of over-long `notes`,
 * non-canonical spellings of a valid token, and SOAK_BOMBS (default 1) 64 MiB `[{},…]` bodies; while
 * a probe times the demo client's login and its first call with the new token; and a SIGKILL + restart of the server every SOAK_KILL_EVERY seconds (default 15). Then it checks
 * every request: acknowledged batches are whole, unanswered ones all or nothing, shared keys hold
 * an acknowledged (or unanswered) write that no acknowledged write certainly followed, and no
 * answer was a 5xx. It prints what was sent, acknowledged and verified, and exits 1 on any failure.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { backends, preparePostgres, type StoreSetup } from '../test/support/backends.js';
import { group } from '../test/support/records.js';
import { demoHeaders, startServer, type ServerProcess } from '../test/support/server-process.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const KILL_EVERY = Number(process.env.SOAK_KILL_EVERY ?? 15);
const WRITERS = 16;
const UNIQUE = 20; // keys only this request writes: all or nothing is checkable
const SHARED = 40; // keys every writer overwrites
const MAX_TEXT = 65_535; // VBAPI_MAX_TEXT_CHARS's default
const BOMBS = Number(process.env.SOAK_BOMBS ?? 1);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** The `vbapi` command against the store of `setup` (its last output line). */
async function vbapi(setup: StoreSetup, ...args: string[]): Promise<string> {
  const env = { ...process.env, ...(setup.config.databaseUrl ? { DATABASE_URL: setup.config.databaseUrl } : { VBAPI_DATA_DIR: setup.config.dataDir }) };
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, ...args], { env });
  return stdout.trim().split('\n').at(-1)!;
}

/** Logs in (retrying on 429 after its Retry-After, as a client should); the headers of an API call. */
async function loginHeaders(base: string, login: Record<string, string>): Promise<Record<string, string>> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${base}/user-authentication`, { method: 'POST', headers: login });
    if (response.status === 429 && attempt < 30) {
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
    const token = ((await response.json()) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
    return { 'x-api-key': login['x-api-key']!, authorization: `Bearer ${token}`, 'vbasoftware-database': 'demo', 'user-agent': 'soak', 'content-type': 'application/json' };
  }
}

const GARBAGE = ['{', '[1,', '[{"group_ID": 5}]', '"x"', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', '[{"group_ID":"\\u0000"}]', 'null', '{"a":1}'];

interface Sent {
  readonly id: string;
  readonly shared: string[];
  started: number;
  ended?: number;
  outcome: 'acknowledged' | 'refused' | 'unanswered';
}

let failures = 0;
const fail = (message: string) => {
  failures++;
  if (failures <= 20) console.error(`FAIL ${message}`);
};

for (const backend of backends) {
  if (backend.skip) {
    console.log(`${backend.name}: skipped (${backend.skip})`);
    continue;
  }
  const setup = backend.name === 'postgres' ? await preparePostgres() : await backend.prepare();
  let server: ServerProcess = await startServer(setup);
  const login = await demoHeaders(server.base, server.stdout());
  const credentials = login.credentials;
  let headers = login.headers;
  // The login attacker is another client (a client's own key can always spend its own login budget).
  server.child.kill('SIGTERM');
  await server.exited;
  await vbapi(setup, 'client', 'create', 'attacker', '--code', 'attacker-code');
  const attackerKey = await vbapi(setup, 'key', 'create', 'attacker');
  await vbapi(setup, 'user', 'create', 'attacker', 'mallory', '--password', 'mallory-password', '--database', 'demo');
  server = await startServer(setup);
  ({ headers } = await demoHeaders(server.base, credentials));
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const demoLogin = {
    'x-api-key': credentials.key,
    authorization: basic('demo', credentials.password),
    'vbasoftware-client-id': 'demo',
    'vbasoftware-client-code': 'demo',
    'vbasoftware-database': 'demo',
    'user-agent': 'soak',
  };
  const attackerLogin = { ...demoLogin, 'x-api-key': attackerKey, authorization: basic('mallory', 'wrong password'), 'vbasoftware-client-id': 'attacker', 'vbasoftware-client-code': 'attacker-code' };
  const attacks = { logins: new Map<number, number>(), notes: new Map<number, number>(), tokens: new Map<number, number>(), bombs: new Map<number, number>() };
  const tally = (map: Map<number, number>, status: number) => map.set(status, (map.get(status) ?? 0) + 1);
  const probe = { logins: 0, loginMaxMs: 0, callMaxMs: 0 };
  const sent: Sent[] = [];
  let fuzzRequests = 0;
  let serverErrors = 0;
  let kills = 0;
  let running = true;
  let restarting: Promise<void> | null = null;

  const writer = async (client: number) => {
    for (let round = 0; running; round++) {
      if (restarting) await restarting;
      const id = `W${client}-${round}`;
      const shared = Array.from({ length: 8 }, () => `SHARED-${Math.floor(Math.random() * SHARED)}`);
      const records = [
        ...Array.from({ length: UNIQUE }, (_, index) => group(`${id}-${index}`, { name: id })),
        ...shared.map((key) => group(key, { name: id })),
      ].sort(() => Math.random() - 0.5);
      const entry: Sent = { id, shared, started: performance.now(), outcome: 'unanswered' };
      sent.push(entry);
      try {
        const response = await fetch(`${server.base}/groups-batch`, { method: 'PUT', headers, body: JSON.stringify(records) });
        const answer = (await response.json()) as { data: { status: number }[] };
        entry.ended = performance.now();
        if (response.status >= 500) serverErrors++;
        entry.outcome = response.status === 207 && answer.data.every((item) => item.status < 300) ? 'acknowledged' : 'refused';
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50)); // the server is being restarted
      }
    }
  };
  const fuzzer = async () => {
    while (running) {
      if (restarting) await restarting;
      try {
        const response = await fetch(`${server.base}/groups-batch`, {
          method: 'PUT',
          headers: { ...headers, ...(Math.random() < 0.3 ? { authorization: 'Bearer x' } : {}) },
          body: GARBAGE[Math.floor(Math.random() * GARBAGE.length)]!,
        });
        await response.arrayBuffer();
        fuzzRequests++;
        if (response.status >= 500) serverErrors++;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  /** Runs `attack` in a loop while the soak runs, riding out restarts; 5xx answers are counted. */
  const attacker = (attack: () => Promise<number>, pauseMs: number, seen: Map<number, number>, expected: readonly number[]) => async () => {
    while (running) {
      if (restarting) await restarting;
      try {
        const status = await attack();
        tally(seen, status);
        if (status >= 500) serverErrors++;
        else if (!expected.includes(status)) fail(`${backend.name}: an attack got ${status}, expected ${expected.join(' or ')}`);
      } catch {
        // the server is being restarted
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  const answer = async (response: Response) => (await response.arrayBuffer(), response.status);
  const loginFlood = attacker(() => fetch(`${server.base}/user-authentication`, { method: 'POST', headers: attackerLogin }).then(answer), 10, attacks.logins, [401, 429]);
  const hugeNotes = attacker(
    async () => {
      const notes = 'n'.repeat(MAX_TEXT + 1 + Math.floor(Math.random() * 1_000_000));
      const key = `NOTES-${Math.floor(Math.random() * 100)}`;
      const single = await fetch(`${server.base}/groups`, { method: 'POST', headers, body: JSON.stringify(group(key, { name: 'NOTES', notes })) }).then(answer);
      if (single !== 400) return single;
      const response = await fetch(`${server.base}/groups-batch`, { method: 'PUT', headers, body: JSON.stringify([group(key, { name: 'NOTES', notes })]) });
      const { data } = (await response.json()) as { data: { status: number }[] };
      return response.status === 207 && data[0]?.status === 400 ? 400 : response.status;
    },
    200,
    attacks.notes,
    [400],
  );
  const nonCanonical = attacker(
    () => {
      const token = headers.authorization!.slice('Bearer '.length);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const flipped = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]}`;
      const spelling = Math.random() < 0.5 ? `${token}=` : flipped;
      return fetch(`${server.base}/groups/SHARED-1`, { headers: { ...headers, authorization: `Bearer ${spelling}` } }).then(answer);
    },
    50,
    attacks.tokens,
    [401],
  );
  const loginProbe = async () => {
    while (running) {
      if (restarting) await restarting;
      try {
        const started = performance.now();
        const fresh = await loginHeaders(server.base, demoLogin);
        const loggedIn = performance.now();
        const response = await fetch(`${server.base}/groups/SHARED-1`, { headers: fresh });
        await response.arrayBuffer();
        if (response.status >= 500) serverErrors++;
        probe.logins++;
        probe.loginMaxMs = Math.max(probe.loginMaxMs, loggedIn - started);
        probe.callMaxMs = Math.max(probe.callMaxMs, performance.now() - loggedIn);
      } catch {
        // the server is being restarted
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  };
  const bomber = async () => {
    // 22,369,621 empty objects: exactly 64 MiB, the default body limit, so only a count can refuse it.
    const body = Buffer.from(`[${'{},'.repeat(22_369_620)}{}]`);
    for (let bomb = 0; bomb < BOMBS && running; bomb++) {
      // Spread over the run, a third of a kill interval off the kills, so a bomb meets a running server.
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / (BOMBS + 1) + (bomb === 0 ? (KILL_EVERY * 1000) / 3 : 0)));
      if (restarting) await restarting;
      try {
        const status = await fetch(`${server.base}/benefit-categories-batch`, { method: 'PUT', headers, body }).then(answer);
        tally(attacks.bombs, status);
        if (status >= 500) serverErrors++;
      } catch {
        tally(attacks.bombs, 0); // connection cut (a kill, or the server refusing the body early)
      }
    }
  };

  const workers = [
    ...Array.from({ length: WRITERS }, (_, client) => writer(client)),
    fuzzer(),
    fuzzer(),
    loginFlood(),
    loginFlood(),
    hugeNotes(),
    nonCanonical(),
    loginProbe(),
    bomber(),
  ];
  const deadline = Date.now() + SECONDS * 1000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(KILL_EVERY * 1000, deadline - Date.now())));
    if (Date.now() >= deadline) break;
    restarting = (async () => {
      server.child.kill('SIGKILL');
      await server.exited;
      kills++;
      server = await startServer(setup);
      ({ headers } = await demoHeaders(server.base, credentials));
    })();
    await restarting;
    restarting = null;
  }
  running = false;
  await Promise.all(workers);

  // Verify, through a fresh login, against what was sent.
  const names = new Map<string, string>();
  const counts = new Map<string, number>();
  for (let page = 1; ; page++) {
    const response = await fetch(`${server.base}/groups?pageSize=1000&page=${page}`, { headers });
    const { data } = (await response.json()) as { data: { group_ID: string; name: string }[] };
    for (const record of data) {
      names.set(record.group_ID, record.name);
      counts.set(record.name, (counts.get(record.name) ?? 0) + (record.group_ID.startsWith('SHARED-') ? 0 : 1));
    }
    if (data.length < 1000) break;
  }
  const byId = new Map(sent.map((entry) => [entry.id, entry]));
  let verified = 0;
  for (const entry of sent) {
    const count = counts.get(entry.id) ?? 0;
    if (entry.outcome === 'acknowledged' && count !== UNIQUE) fail(`${backend.name}: ${entry.id} acknowledged, ${count}/${UNIQUE} stored`);
    else if (count !== 0 && count !== UNIQUE) fail(`${backend.name}: ${entry.id} partly applied (${count}/${UNIQUE})`);
    else if (entry.outcome === 'refused' && count !== 0) fail(`${backend.name}: ${entry.id} refused yet applied`);
    else verified += count;
  }
  for (let key = 0; key < SHARED; key++) {
    const stored = names.get(`SHARED-${key}`);
    if (stored === undefined) continue;
    const writer = byId.get(stored);
    if (!writer || writer.outcome === 'refused') fail(`${backend.name}: SHARED-${key} holds "${stored}", which was never applied`);
    else if (writer.ended !== undefined) {
      const later = sent.find((other) => other.outcome === 'acknowledged' && other.shared.includes(`SHARED-${key}`) && other.started > writer.ended!);
      if (later) fail(`${backend.name}: SHARED-${key} holds "${stored}" though "${later.id}" began after it was acknowledged`);
      else verified++;
    } else verified++;
  }
  if (serverErrors) fail(`${backend.name}: ${serverErrors} answers were 5xx`);
  server.child.kill('SIGTERM');
  if ((await server.exited) !== 0) fail(`${backend.name}: the server did not exit cleanly on SIGTERM`);
  await setup.cleanup();

  const acknowledged = sent.filter((entry) => entry.outcome === 'acknowledged').length;
  console.log(
    `${backend.name}: ${SECONDS} s, ${sent.length} batch requests sent (${acknowledged} acknowledged, ` +
      `${sent.filter((entry) => entry.outcome === 'unanswered').length} unanswered at a kill), ${fuzzRequests} garbage requests, ` +
      `${kills} SIGKILLs, ${verified} records and shared keys verified, ${serverErrors} 5xx`,
  );
  const statuses = (map: Map<number, number>) => [...map].map(([status, count]) => `${count}×${status || 'cut'}`).join(' ') || 'none';
  console.log(
    `${backend.name} attacks: wrong-password logins ${statuses(attacks.logins)}; over-long notes ${statuses(attacks.notes)}; ` +
      `non-canonical tokens ${statuses(attacks.tokens)}; 64 MiB bombs ${statuses(attacks.bombs)}; ` +
      `demo logins during them ${probe.logins}, slowest ${probe.loginMaxMs.toFixed(0)} ms, slowest first call ${probe.callMaxMs.toFixed(0)} ms`,
  );
}
console.log(`failures: ${failures}`);
process.exitCode = failures ? 1 : 0;
