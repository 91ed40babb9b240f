import { progress } from '../lib/progress.js';
import { round } from '../lib/stats.js';

/** What the server's `/metrics` says its usage log holds that no writer has folded yet, over every partition. */
async function backlog(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('allot_usage_log_lag_messages{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * With a usage log, the calls an earlier phase had acknowledged may still wait to be folded: waits
 * (up to `limitMs`) until the log holds none, so that a phase measures its own calls rather than an
 * earlier phase's backlog. Returns how long that took and how many messages were waiting at first.
 */
export async function waitForLogFolded(baseUrl: string, phase: string, limitMs = 300_000): Promise<{ waited_s: number; messages_waiting: number; drained: boolean }> {
  const started = performance.now();
  const first = await backlog(baseUrl);
  let left = first;
  if (first > 0) progress(`${phase}: waiting for the usage log's ${first} unfolded messages (earlier phases' calls) to be folded`);
  while (left > 0 && performance.now() - started < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    left = await backlog(baseUrl);
  }
  return { waited_s: round((performance.now() - started) / 1000, 1), messages_waiting: first, drained: left === 0 };
}
