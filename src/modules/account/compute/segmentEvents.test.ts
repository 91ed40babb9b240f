import { describe, expect, it } from 'vitest';
import { segmentEventsDue } from './segmentEvents.js';

const at = (iso: string) => new Date(iso);
const credit = (overrides: Partial<Parameters<typeof segmentEventsDue>[0][number]> = {}) => ({
  id: 'credit-1',
  kind: 'CREDIT' as const,
  createdAt: at('2024-03-20T00:00:00Z'),
  archivedAt: null,
  segments: [
    { id: 'april', startingAt: at('2024-04-01T00:00:00Z'), endingBefore: at('2024-05-01T00:00:00Z') },
    { id: 'may', startingAt: at('2024-05-01T00:00:00Z'), endingBefore: at('2024-06-01T00:00:00Z') },
  ],
  ...overrides,
});

describe('segmentEventsDue', () => {
  it('announces what started and ended by now, the end before the start at one instant', () => {
    expect(segmentEventsDue([credit()], at('2024-04-10T00:00:00Z')).map((e) => [e.type, e.segmentId])).toEqual([['credit.segment.start', 'april']]);
    expect(segmentEventsDue([credit()], at('2024-05-01T00:00:00Z')).map((e) => [e.type, e.segmentId, e.segmentIndex, e.segmentCount])).toEqual([
      // April's start (30 days back) was announced while April ran.
      ['credit.segment.end', 'april', 0, 2],
      ['credit.segment.start', 'may', 1, 2],
    ]);
  });

  it('leaves out what happened before the lookback, what ended before the credit existed, commits and archived credits', () => {
    // On May 20, April's start and end are past the lookback; May's start is announced while May runs.
    expect(segmentEventsDue([credit()], at('2024-05-20T00:00:00Z')).map((e) => `${e.type} ${e.segmentId}`)).toEqual(['credit.segment.start may']);
    expect(segmentEventsDue([credit()], at('2024-06-20T00:00:00Z'))).toEqual([]);
    expect(segmentEventsDue([credit({ createdAt: at('2024-05-01T00:00:00Z') })], at('2024-05-01T00:00:00Z')).map((e) => e.segmentId)).toEqual(['may']);
    expect(segmentEventsDue([credit({ kind: 'COMMIT' })], at('2024-04-10T00:00:00Z'))).toEqual([]);
    expect(segmentEventsDue([credit({ archivedAt: at('2024-04-02T00:00:00Z') })], at('2024-04-10T00:00:00Z'))).toEqual([]);
  });
});
