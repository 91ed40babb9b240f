import { monotonicMicroseconds } from '../diagnostics/cpuProfile.js';
import { coresUsed, cpuSnapshot } from '../diagnostics/cpu.js';
import type { BenchContext } from './context.js';

/**
 * Runs `work` as a measured window: remembers its span on the monotonic clock (to cut the server's
 * CPU profile to it) and returns the cores the server, PostgreSQL and the machine used meanwhile.
 */
export async function measuredWindow<T>(context: BenchContext, name: string, work: () => Promise<T>) {
  const fromUs = monotonicMicroseconds();
  const before = cpuSnapshot(context.server.pid);
  const result = await work();
  const cores = coresUsed(before, cpuSnapshot(context.server.pid));
  const windows = (context.diagnostics.windows ??= {}) as Record<string, { fromUs: number; toUs: number }>;
  windows[name] = { fromUs, toUs: monotonicMicroseconds() };
  return { result, cores };
}
