import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fsExt from 'fs-ext';
import { StoreError } from './errors.js';

/** The data directory is locked by another live process (a server, or another command). */
export class DataDirBusy extends StoreError {}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt it.
 * The data directory is claimed with an exclusive `flock` on `.lock`: the kernel holds it for the
 * open file and drops it when the process ends, however it ends (kill -9, OOM, a container stopped),
 * so no PID is ever trusted: PID reuse, PID 1 in a container and zombies cannot keep a dead owner
 * alive. The PID written into the file only names the owner in the error message.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, '.lock');
  // A few rounds because a releasing owner unlinks the file: the inode we locked may be gone.
  for (let attempt = 0; attempt < 5; attempt++) {
    const fd = openSync(path, 'a+'); // Node opens with O_CLOEXEC: child processes never inherit the lock.
    try {
      fsExt.flockSync(fd, 'exnb');
    } catch (error) {
      closeSync(fd);
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' && (error as NodeJS.ErrnoException).code !== 'EWOULDBLOCK') throw error;
      throw new DataDirBusy(
        `the embedded store in ${dataDir} is in use by ${ownerOf(path)}; stop it first (or use DATABASE_URL for a shared PostgreSQL store)`,
      );
    }
    if (!sameFile(fd, path)) {
      closeSync(fd); // locked a file another owner unlinked on release: lock the current one
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, String(process.pid));
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      // Unlinked while still locked, so nobody can lock this inode and believe it is the current one.
      unlinkSync(path);
      closeSync(fd);
    };
  }
  throw new StoreError(`could not lock ${path}: it keeps being replaced`);
}

function sameFile(fd: number, path: string): boolean {
  try {
    return fstatSync(fd).ino === statSync(path).ino;
  } catch {
    return false; // unlinked meanwhile
  }
}

function ownerOf(path: string): string {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? `process ${pid}` : 'another process';
  } catch {
    return 'another process';
  }
}
