import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backends, openStore, type StoreSetup } from './support/backends.js';
import { startServer, type ServerProcess } from './support/server-process.js';

/**
 * The embedded store's data directory lock is a kernel lock (flock): it goes when its process goes,
 * whatever PID the process had or has now. Before, a PID file was trusted: a server that ran as
 * PID 1 of a container, or that was a zombie, "still owned" the directory after kill -9.
 */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-fp', '--mount-proc', 'true']).status === 0;
const setups: StoreSetup[] = [];
after(async () => {
  for (const setup of setups) await setup.cleanup();
});

/** The node process `unshare -f` forked (PID 1 inside its namespace), seen from here. */
function childPid(parent: number): number {
  const pid = Number(execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).trim().split('\n')[0]);
  assert.ok(pid > 0, `no child of ${parent}`);
  return pid;
}

function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;
}

async function killHard(server: ServerProcess, pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      if (processState(pid) === 'Z') return;
    } catch {
      return; // gone (reaped)
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`process ${pid} did not die (server output: ${server.stdout()})`);
}

describe('embedded store lock', { skip: backends[0]!.skip }, () => {
  test('a second store in the same process is refused while the first is open; released on close', async () => {
    const setup = await backends[0]!.prepare();
    setups.push(setup);
    const store = await openStore(setup);
    try {
      await assert.rejects(openStore(setup), new RegExp(`in use by process ${process.pid}`));
    } finally {
      await store.close();
    }
    await (await openStore(setup)).close();
  });

  const unshare = canUnshare ? false : 'needs root and unshare(1) to run the server as PID 1';
  test('PID 1 in a container: kill -9, then start again as PID 1; a second process is refused meanwhile', { skip: unshare }, async () => {
    const setup = await backends[0]!.prepare();
    setups.push(setup);
    const wrap = ['unshare', '-fp', '--mount-proc'];
    const first = await startServer(setup, {}, wrap);
    const node = childPid(first.child.pid!);
    assert.equal(readFileSync(join(setup.config.dataDir, '.lock'), 'utf8'), '1', 'the server runs as PID 1 of its namespace');

    // A second server is refused; an administration command is run by the one that owns the store.
    const env = { ...process.env, VBAPI_DATA_DIR: setup.config.dataDir };
    const busy = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0'], { env, encoding: 'utf8' });
    assert.equal(busy.status, 1, busy.stderr);
    assert.match(busy.stderr, /in use by process 1/);
    const command = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'database', 'create', 'other'], { env, encoding: 'utf8' });
    assert.equal(command.status, 0, command.stderr);

    await killHard(first, node);
    await first.exited;
    const second = await startServer(setup, {}, wrap); // the stale file says "1", and this one is PID 1 again
    try {
      assert.equal((await fetch(`${second.base}/healthz`)).status, 200);
    } finally {
      process.kill(childPid(second.child.pid!), 'SIGTERM'); // unshare does not pass signals on
      await second.exited;
    }
  });

  test('restart while the killed server is still a zombie', async () => {
    const setup = await backends[0]!.prepare();
    setups.push(setup);
    // The shell becomes `sleep`, which never reaps its child: the killed node stays a zombie.
    const first = await startServer(setup, {}, ['sh', '-c', '"$@" & exec sleep 300', 'sh']);
    const node = childPid(first.child.pid!);
    try {
      await killHard(first, node);
      assert.equal(processState(node), 'Z', 'the old server is a zombie');
      const second = await startServer(setup);
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
  });
});
