import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where a frame's code lives: an Allot source file, a package, Node itself, or V8's pseudo-frames. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inPackage) return inPackage[1]!;
  return relative(ROOT, path);
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const area = areaOf(url, functionName);
  // tsx puts a TypeScript file's code on its first line: a line number there says nothing.
  return `${functionName || '(anonymous)'} ${area}${url && lineNumber > 0 ? `:${lineNumber + 1}` : ''}`;
}

/**
 * The newest main-thread profile of process `pid` in `directory`, or undefined. Node names them
 * `CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile`; thread 0 is the main thread (tsx's
 * module loader runs on another).
 */
export function mainThreadProfile(directory: string, pid: number): string | undefined {
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile') && name.split('.')[3] === String(pid) && name.split('.')[4] === '0')
    .map((name) => join(directory, name));
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/**
 * Where the server's CPU went between `fromUs` and `toUs` (CLOCK_MONOTONIC microseconds, the clock
 * V8 stamps profiles with and `process.hrtime` reads): the functions with the most self time, the
 * functions with the most total time (callees included, each sample counted once per function),
 * and self time per area (Allot file, package, Node internals, GC).
 */
export function summarizeProfile(file: string, { fromUs, toUs, top = 20 }: { fromUs: number; toUs: number; top?: number }) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const delta = profile.timeDeltas[i + 1] ?? 0; // the time until the next sample is this sample's
    if (at < fromUs || at >= toUs) continue;
    const leaf = byId.get(profile.samples[i]!)!;
    sampled += delta;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += delta;
      continue;
    }
    const leafName = frameName(leaf);
    self.set(leafName, (self.get(leafName) ?? 0) + delta);
    const area = areaOf(leaf.callFrame.url, leaf.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + delta);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      const name = frameName(byId.get(id)!);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + delta);
    }
  }
  const busy = sampled - idle;
  const ranked = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ share_of_busy: Number((us / Math.max(1, busy)).toFixed(3)), ms: Math.round(us / 1000), name }));
  return {
    window_ms: Math.round((toUs - fromUs) / 1000),
    busy_ms: Math.round(busy / 1000),
    idle_ms: Math.round(idle / 1000),
    self_time_by_area: ranked(areas, 15),
    self_time_top: ranked(self, top),
    total_time_top: ranked(new Map([...total].filter(([name]) => !name.startsWith('(root)'))), top),
  };
}

/** Now on CLOCK_MONOTONIC in microseconds, comparable with the server's profile timestamps. */
export function monotonicMicroseconds(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
