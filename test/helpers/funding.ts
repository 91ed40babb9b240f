import { Decimal } from '../../src/lib/money.js';
import type { FundingSegment } from '../../src/modules/account/compute/drawdown.js';

/** April 2024, the window the drawdown tests' segments and charges cover unless they say otherwise. */
export const APRIL = { startingAt: new Date('2024-04-01T00:00:00Z'), endingBefore: new Date('2024-05-01T00:00:00Z') };

/** A segment as drawdown sees it: a credit of contract `contract` in AI credits, priority 1, for every product, over April, holding `available`. */
export function fundingSegment(id: string, available: number, extra: Partial<FundingSegment> = {}): FundingSegment {
  return {
    grantId: `grant-${id}`,
    segmentId: id,
    kind: 'CREDIT',
    priority: new Decimal(1),
    creditTypeId: 'ai',
    applicableProductIds: null,
    applicableProductTags: null,
    productScope: Infinity,
    contractId: 'contract',
    applicableContractIds: null,
    ...APRIL,
    available: new Decimal(available),
    rolloverOf: null,
    ...extra,
  };
}
