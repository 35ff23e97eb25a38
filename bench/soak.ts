/**
 * `npm run soak`: a bounded run (SOAK_SECONDS per store, default 60) of everything at once against
 * `vbapi serve` on each store: 16 writers sending overlapping batches, 2 fuzzers sending garbage,
 * and a SIGKILL + restart of the server every SOAK_KILL_EVERY seconds (default 15). Then it checks
 * every request: acknowledged batches are whole, unanswered ones all or nothing, shared keys hold
 * an acknowledged (or unanswered) write that no acknowledged write certainly followed, and no
 * answer was a 5xx. It prints what was sent, acknowledged and verified, and exits 1 on any failure.
 */
import { backends, preparePostgres } from '../test/support/backends.js';
import { group } from '../test/support/records.js';
import { demoHeaders, startServer, type ServerProcess } from '../test/support/server-process.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const KILL_EVERY = Number(process.env.SOAK_KILL_EVERY ?? 15);
const WRITERS = 16;
const UNIQUE = 20; // keys only this request writes: all or nothing is checkable
const SHARED = 40; // keys every writer overwrites
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

  const workers = [...Array.from({ length: WRITERS }, (_, client) => writer(client)), fuzzer(), fuzzer()];
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
}
console.log(`failures: ${failures}`);
process.exitCode = failures ? 1 : 0;
