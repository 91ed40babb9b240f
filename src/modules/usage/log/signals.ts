import { randomUUID } from 'node:crypto';
import { signalsOf, type UsageCommitted } from '../../../lib/context.js';
import type { Database } from '../../../lib/db/database.js';
import type { UsageLog } from './connection.js';

export const USAGE_SIGNALS_SUBJECT = 'allot.signals.usage';

type Wire = { o: string; t: string; c: string[]; m: [string, string[]][]; s?: [string, string][] };

/**
 * Usage committed on one node, announced to the others over NATS: with a log, usage is folded on
 * the writers, and the API nodes' dashboards (live updates) and alert evaluators follow
 * `usageCommitted` of their own process, which would otherwise never fire there. Each node
 * publishes what it folds (core NATS, at most once: a signal lost while a node reconnects is made
 * up by the evaluators' sweep and the dashboard's next read) and emits what the others fold as if
 * it had folded it. Kept accounts do not depend on it: they follow PostgreSQL's notifications, whose
 * barrier gives reads every change acknowledged before them.
 */
export function relayUsageSignals(db: Database, log: UsageLog): { received(): number; stop(): void } {
  const origin = randomUUID();
  const signals = signalsOf(db);
  let relaying = false;
  let received = 0;
  const off = signals.on('usageCommitted', (committed) => {
    if (relaying) return;
    log.nc.publish(USAGE_SIGNALS_SUBJECT, encodeSignal(committed, origin));
  });
  const subscription = log.nc.subscribe(USAGE_SIGNALS_SUBJECT, {
    callback(error, message) {
      if (error) return;
      const wire = JSON.parse(message.string()) as Wire;
      if (wire.o === origin) return;
      received++;
      relaying = true;
      try {
        signals.emit('usageCommitted', decodeSignal(wire));
      } finally {
        relaying = false;
      }
    },
  });
  return {
    received: () => received,
    stop() {
      off();
      subscription.unsubscribe();
    },
  };
}

function encodeSignal({ tenantId, customerIds, metricIds, since }: UsageCommitted, origin: string): string {
  const wire: Wire = {
    o: origin,
    t: tenantId,
    c: [...customerIds],
    m: [...metricIds].map(([customerId, metrics]) => [customerId, [...metrics]]),
    ...(since && { s: [...since].map(([customerId, hour]): [string, string] => [customerId, hour.toISOString()]) }),
  };
  return JSON.stringify(wire);
}

function decodeSignal(wire: Wire): UsageCommitted {
  return {
    tenantId: wire.t,
    customerIds: wire.c,
    metricIds: new Map(wire.m.map(([customerId, metrics]) => [customerId, new Set(metrics)])),
    ...(wire.s && { since: new Map(wire.s.map(([customerId, hour]) => [customerId, new Date(hour)])) }),
  };
}
