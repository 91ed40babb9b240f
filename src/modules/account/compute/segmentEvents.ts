/** How far back a segment's start or end is still announced: a process down longer than this does not replay older ones. */
export const SEGMENT_EVENT_LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;

export interface SegmentEvent {
  type: 'credit.segment.start' | 'credit.segment.end';
  grantId: string;
  segmentId: string;
  /** 0-based position of the segment among its credit's segments. */
  segmentIndex: number;
  segmentCount: number;
  /** When it happened: the segment's start or its end. */
  at: Date;
}

interface Grant {
  id: string;
  kind: 'CREDIT' | 'COMMIT';
  createdAt: Date;
  archivedAt: Date | null;
  segments: readonly { id: string; startingAt: Date; endingBefore: Date }[];
}

/**
 * The segment starts and ends of a customer's credits that are due to be announced as of `now`:
 * on a live credit, those that happened at or before `now` within the lookback, and the start of
 * a segment running now however long ago it started; never for a segment that had ended before
 * the credit existed (a credit created today with last month's segment does not announce it).
 * Every event has one identity (its type and segment), so announcing it again is a no-op.
 */
export function segmentEventsDue(grants: readonly Grant[], now: Date): SegmentEvent[] {
  const since = now.getTime() - SEGMENT_EVENT_LOOKBACK_MS;
  const events: SegmentEvent[] = [];
  for (const grant of grants) {
    if (grant.kind !== 'CREDIT' || grant.archivedAt) continue;
    const ordered = [...grant.segments].sort((a, b) => a.startingAt.getTime() - b.startingAt.getTime());
    ordered.forEach((segment, segmentIndex) => {
      if (segment.endingBefore <= grant.createdAt) return;
      const base = { grantId: grant.id, segmentId: segment.id, segmentIndex, segmentCount: ordered.length };
      const running = segment.startingAt <= now && now < segment.endingBefore;
      if (segment.startingAt <= now && (running || segment.startingAt.getTime() > since)) events.push({ type: 'credit.segment.start', ...base, at: segment.startingAt });
      if (segment.endingBefore <= now && segment.endingBefore.getTime() > since) events.push({ type: 'credit.segment.end', ...base, at: segment.endingBefore });
    });
  }
  // At one instant the segment that ends is announced before the one that starts.
  return events.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}
