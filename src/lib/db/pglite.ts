import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Transaction } from './database.js';

export interface PgliteOptions {
  /** Directory the database is persisted in; omitted, the database lives in memory. */
  dataDir?: string;
  /**
   * Start from this copy of a data directory (`pgliteTemplate`) instead of initialising a new one,
   * which takes seconds; tests open many databases from one copy. With `dataDir`, only while the
   * directory holds no database yet.
   */
  template?: Blob;
  /**
   * Server settings for this instance, as `-c name=value` at its start. Tests open hundreds of
   * databases and give them `shared_buffers: '16MB'`: PGlite sets up the default 128 MB at each
   * start, which is about half of the time an open from a template takes.
   */
  settings?: Record<string, string>;
}

function startParams(settings: Record<string, string> | undefined): { startParams?: string[] } {
  if (!settings || Object.keys(settings).length === 0) return {};
  return { startParams: [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])] };
}

// int8 as text, as `pg` returns it: counts and sums must not silently lose precision.
// `date` as YYYY-MM-DD text, as the pg engine returns it, not as a Date at UTC midnight.
const PARSERS = { [types.INT8]: (value: string) => value, [types.DATE]: (value: string) => value };

/**
 * A copy of a data directory, for `openPglite`'s `template`: a newly initialised, empty one, or
 * `from` (another copy), after `prepare` when given (e.g. the migrations).
 */
export async function pgliteTemplate({
  from,
  prepare,
  settings,
  initdbArgs,
}: {
  from?: Blob;
  prepare?: (db: Database) => Promise<unknown>;
  settings?: PgliteOptions['settings'];
  /** Arguments for `initdb` when a new one is initialised (no `from`), e.g. `--wal-segsize=1`. */
  initdbArgs?: string[];
} = {}): Promise<Blob> {
  const lite = await PGlite.create({
    ...(from ? { loadDataDir: from } : initdbArgs ? { initDbStartParams: initdbArgs } : {}),
    ...startParams(settings),
    parsers: PARSERS,
  });
  try {
    await prepare?.(asDatabase(lite, () => {}));
    return await lite.dumpDataDir('none');
  } finally {
    await lite.close();
  }
}

/**
 * A `Database` on PGlite, PostgreSQL compiled to WASM and running in this process. PGlite runs
 * one query at a time and queues the rest, and a transaction holds it exclusively until it ends.
 *
 * A persisted data directory may be opened by one process only: two would corrupt it. A lock
 * file (`allot.lock`, holding the owner's pid) guards it; a lock left by a dead process is taken
 * over. A lock naming this very process's pid is stale unless this process holds the directory:
 * a container restarted after a crash often gets the same pid (1) again.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const releaseLock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  let lite: PGlite;
  try {
    if (options.dataDir && !options.template && !existsSync(join(options.dataDir, 'PG_VERSION'))) {
      // Initialising a database grows PGlite's WebAssembly memory to about 630 MiB, which it never
      // gives back: initialised by an instance of its own, closed, the directory opens in about 200.
      await (await PGlite.create({ dataDir: options.dataDir, ...startParams(options.settings) })).close();
    }
    lite = await PGlite.create({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.template ? { loadDataDir: options.template } : {}),
      ...startParams(options.settings),
      parsers: PARSERS,
    });
  } catch (error) {
    releaseLock();
    throw error;
  }
  return asDatabase(lite, releaseLock);
}

function asDatabase(lite: PGlite, releaseLock: () => void): Database {
  return {
    engine: 'pglite',
    async query(text, params) {
      const result = await lite.query(text, params as unknown[] | undefined);
      return result.rows as never[];
    },
    async transaction(work) {
      return lite.transaction(async (inner) => {
        const tx: Transaction = {
          async query(text, params) {
            const result = await inner.query(text, params as unknown[] | undefined);
            return result.rows as never[];
          },
          async execScript(script) {
            await inner.exec(script);
          },
        };
        return work(tx);
      });
    },
    async close() {
      try {
        await lite.close();
      } finally {
        releaseLock();
      }
    },
  };
}

const heldDataDirs = new Set<string>();

function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const held = resolve(dataDir);
  const lockPath = join(dataDir, 'allot.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldDataDirs.add(held);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        heldDataDirs.delete(held);
        process.off('exit', release);
        rmSync(lockPath, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && (owner === process.pid ? heldDataDirs.has(held) : isAlive(owner))) {
        throw new Error(
          `The data directory ${dataDir} is in use by process ${owner}. PGlite allows one process at a time: ` +
            'stop that process, or use its HTTP API instead (e.g. POST /v1/allot/api-keys/create).',
        );
      }
      rmSync(lockPath, { force: true }); // left by a process that is gone
    }
  }
  throw new Error(`Could not lock the data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
