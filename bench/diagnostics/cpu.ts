import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (seconds) used so far by the server process, by all `postgres` processes, and by the whole machine. */
export interface CpuSnapshot {
  at: number;
  serverSeconds: number;
  postgresSeconds: number;
  machineBusySeconds: number;
}

// /proc reports in clock ticks; Linux's USER_HZ is 100 on every mainstream architecture.
const TICKS_PER_SECOND = 100;

/** utime + stime, plus cutime + cstime (the children it has reaped) when `withChildren`. */
function processSeconds(pid: number | string, { withChildren = false } = {}): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = fields[11]! + fields[12]!;
    return (withChildren ? own + fields[13]! + fields[14]! : own) / TICKS_PER_SECOND;
  } catch {
    return 0; // gone, or not Linux
  }
}

/**
 * Every `postgres` process's CPU time, with what the postmaster's exited children (backends that
 * ended, e.g. the baseline's connections) used: the sum only grows, so two snapshots subtract.
 */
function postgresSeconds(): number {
  let seconds = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return seconds;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') seconds += processSeconds(entry, { withChildren: true });
    } catch {
      // a process that ended between readdir and read
    }
  }
  return seconds;
}

function machineBusySeconds(): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const ticks = fields.map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    return (ticks.reduce((sum, value) => sum + value, 0) - idle) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export function cpuSnapshot(serverPid: number): CpuSnapshot {
  return { at: performance.now(), serverSeconds: processSeconds(serverPid), postgresSeconds: postgresSeconds(), machineBusySeconds: machineBusySeconds() };
}

/** Cores used on average between two snapshots (1.0 = one core busy all the time); Linux only, else zeros. */
export function coresUsed(before: CpuSnapshot, after: CpuSnapshot): { server: number; postgres: number; machine: number } {
  const seconds = (after.at - before.at) / 1000;
  const share = (value: number) => Number((value / seconds).toFixed(2));
  return {
    server: share(after.serverSeconds - before.serverSeconds),
    postgres: share(after.postgresSeconds - before.postgresSeconds),
    machine: share(after.machineBusySeconds - before.machineBusySeconds),
  };
}

/** Cores the machine keeps busy over `ms` without the bench doing anything: other people's work skews every figure. */
export async function backgroundCores(ms = 3000): Promise<number> {
  const before = { at: performance.now(), busy: machineBusySeconds() };
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Number(((machineBusySeconds() - before.busy) / ((performance.now() - before.at) / 1000)).toFixed(2));
}
