/**
 * The wait after failed attempt `attempt` (1-based): `min(maxMs, baseMs · 2^(attempt−1))`, scaled
 * by a factor in [0.5, 1] from `random` (in [0, 1)) so that many failing invoices do not retry in
 * lockstep. Base 30 s, max 1 h: up to 30 s, 60 s, 120 s, … 3,600 s.
 */
export function retryDelayMs({ attempt, baseMs, maxMs, random }: { attempt: number; baseMs: number; maxMs: number; random: number }): number {
  const unjittered = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(unjittered * (0.5 + random / 2));
}
