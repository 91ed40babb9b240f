/**
 * How long to wait after failed attempt number `attempt` (1 for the first) before the next one:
 * exponential, `baseMs · 2^(attempt − 1)`, capped at `maxMs`, then scaled by a jitter factor in
 * [0.5, 1] drawn from `random` (a number in [0, 1), `Math.random` in production), so that many
 * failing webhook deliveries or Stripe pushes do not retry in lockstep. Whole milliseconds,
 * rounded up.
 *
 * With base 2 s and max 15 min (webhooks): after attempt 1 the wait is 1–2 s, after 3 it is 4–8 s,
 * after 10 and later it is 7.5–15 min. With base 30 s and max 1 h (Stripe): up to 30 s, 60 s,
 * 120 s, … 3,600 s.
 */
export function retryDelayMs({ attempt, baseMs, maxMs, random }: { attempt: number; baseMs: number; maxMs: number; random: number }): number {
  return Math.ceil(retryCapMs({ attempt, baseMs, maxMs }) * (0.5 + 0.5 * random));
}

/** The un-jittered delay after attempt `attempt`: `min(maxMs, baseMs · 2^(attempt − 1))`. */
export function retryCapMs({ attempt, baseMs, maxMs }: { attempt: number; baseMs: number; maxMs: number }): number {
  // 2^1024 is Infinity, which min() handles; attempts below 1 are treated as the first.
  return Math.min(maxMs, baseMs * 2 ** (Math.max(1, attempt) - 1));
}
