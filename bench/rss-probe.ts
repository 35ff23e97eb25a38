/** `npm run bench:rss`: peak RSS growth of a fresh server taking one 10,000-group batch, per store; RSS_RUNS fresh servers each (default 3). */
import { readFileSync, writeFileSync } from 'node:fs';
import { backends } from '../test/support/backends.js';
import { demoHeaders, startServer } from '../test/support/server-process.js';
import { records } from './batch-records.js';
import { putBytes } from './http-put.js';

const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
for (const backend of backends) {
  if (process.env.BENCH_ONLY && backend.name !== process.env.BENCH_ONLY) continue;
  const setup = await backend.prepare();
  let credentials;
  const ratios: string[] = [];
  for (let run = 0; run < Number(process.env.RSS_RUNS ?? 3); run++) {
    const server = await startServer(setup);
    const login = await demoHeaders(server.base, credentials ?? server.stdout());
    credentials = login.credentials;
    await putBytes(`${server.base}/groups-batch`, login.headers, Buffer.from(JSON.stringify(records('groups', 10, 'WARM'))));
    const body = Buffer.from(JSON.stringify(records('groups', 10_000, `R${run}`)));
    writeFileSync(`/proc/${server.child.pid}/clear_refs`, '5');
    const before = peakRss(server.child.pid!);
    const answer = await putBytes(`${server.base}/groups-batch`, login.headers, body);
    if (answer.status !== 207) throw new Error(String(answer.status));
    const growth = (peakRss(server.child.pid!) - before) / 1024;
    ratios.push(`${(growth / (body.length / 2 ** 20)).toFixed(2)}× (${growth.toFixed(1)} MiB)`);
    await new Promise((resolve) => {
      server.child.once('close', resolve);
      server.child.kill('SIGTERM');
    });
  }
  await setup.cleanup();
  console.log(backend.name, ratios.join(', '));
}
