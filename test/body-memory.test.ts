import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { backends, type StoreSetup } from './support/backends.js';
import { demoHeaders, startServer, type ServerProcess } from './support/server-process.js';

const MiB = 1024 * 1024;
const ATTACKERS = 40;
/**
 * Before the body was counted as it arrived, 40 of these bodies took the process past 7 GB and
 * killed it. With the record limit enforced while reading and the in-flight budget (256 MiB by
 * default), the peak stays near the idle process's footprint (about 1 GB with PGlite's caches)
 * plus a few bodies' chunks.
 */
const PEAK_GROWTH_LIMIT = 768 * MiB;

/** A process's resident memory now and at its peak, from /proc (Linux). */
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** `[{},{},…]` filling `bytes`: 22,369,621 empty objects in 64 MiB. */
function emptyObjects(bytes: number): Buffer {
  const body = Buffer.alloc(3 * Math.floor((bytes - 1) / 3) + 1);
  body.fill('{},', 1);
  body[0] = 0x5b;
  body[body.length - 1] = 0x5d;
  return body;
}

for (const backend of backends) {
  describe(`many hostile bodies at once against vbapi serve on ${backend.name}`, { skip: backend.skip }, () => {
    let setup: StoreSetup;
    let server: ServerProcess;
    before(async () => {
      setup = await backend.prepare();
      server = await startServer(setup);
    });
    after(async () => {
      server?.child.kill('SIGKILL');
      await server?.exited;
      await setup?.cleanup();
    });

    test(`${ATTACKERS} concurrent 64 MiB bodies of empty objects: every one answered 413 or 503, no crash, memory bounded`, async () => {
      const { headers } = await demoHeaders(server.base, server.stdout());
      const idle = await memory(server.child.pid!);
      const body = emptyObjects(64 * MiB);
      let healthy = true;
      let sampling = true;
      let highest = idle.rss;
      const sampler = (async () => {
        while (sampling) {
          highest = Math.max(highest, (await memory(server.child.pid!)).rss);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const started = performance.now();
      const statuses = await Promise.all(
        Array.from({ length: ATTACKERS }, async () => {
          const response = await fetch(`${server.base}/benefit-categories-batch`, { method: 'PUT', headers, body });
          const json = (await response.json()) as { data: null; error: { status: number; detail: string }; debug: { activityID: string } };
          assert.equal(json.data, null);
          assert.equal(json.error.status, response.status);
          if (response.status === 413) assert.match(json.error.detail, /^A batch may hold at most 10000 records; this one has more than \d+$/);
          if (response.status === 503) assert.equal(response.headers.get('retry-after'), '1');
          return response.status;
        }),
      );
      const elapsed = performance.now() - started;
      sampling = false;
      await sampler;
      healthy = (await fetch(`${server.base}/healthz`)).ok;
      const { peak } = await memory(server.child.pid!);
      const counts = statuses.reduce<Record<number, number>>((sum, status) => ({ ...sum, [status]: (sum[status] ?? 0) + 1 }), {});
      console.log(
        `${backend.name}: ${JSON.stringify(counts)} in ${Math.round(elapsed)} ms; RSS idle ${Math.round(idle.rss / MiB)} MiB, ` +
          `highest sampled ${Math.round(highest / MiB)} MiB, peak (VmHWM) ${Math.round(idle.peak / MiB)} MiB before, ${Math.round(peak / MiB)} MiB after`,
      );
      assert.ok(statuses.every((status) => status === 413 || status === 503), JSON.stringify(counts));
      assert.ok(counts[413], 'some are counted and refused, not all turned away');
      assert.equal(server.child.exitCode, null, 'the server is alive');
      assert.ok(healthy);
      assert.ok(peak - idle.rss < PEAK_GROWTH_LIMIT, `peak RSS ${Math.round(peak / MiB)} MiB, ${Math.round(idle.rss / MiB)} MiB idle`);
    });
  });
}
