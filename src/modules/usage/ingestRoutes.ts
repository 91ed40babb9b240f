import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Counter, Histogram } from 'prom-client';
import type { ServiceContext } from '../../lib/context.js';
import type { App } from '../../http/types.js';
import { ingestBodyText, parseIngestJson } from './ingestBody.js';
import { ingestBody } from './schemas.js';
import * as service from './service.js';

/**
 * `POST /v1/ingest` (the SDK's `v1.usage.ingest`), in a scope of its own: its body may be gzipped
 * and is parsed by the fast exact parser (`ingestBody.ts`); it skips the Idempotency-Key
 * transaction (the transaction_id is the dedupe key) and caches API-key lookups briefly.
 * Answers 200 with no body once the events are committed, as Metronome does.
 */
export function registerIngestRoutes(app: App, context: ServiceContext): void {
  const bodyLimit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  registerIngestMetrics(app, context);

  app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const encoding = request.headers['content-encoding'];
      if (!encoding) {
        try {
          done(null, parseIngestJson((body as Buffer).toString('utf8')));
        } catch (error) {
          done(error as Error, undefined);
        }
        return;
      }
      ingestBodyText(body as Buffer, encoding, bodyLimit).then(
        (text) => done(null, parseIngestJson(text)),
        (error: Error) => done(error, undefined),
      );
    });

    scope.post(
      '/v1/ingest',
      {
        config: { idempotency: 'built-in', gzipBody: true, cachedAuth: true },
        schema: { tags: ['usage'], summary: 'Ingest 1-100 usage events; a repeated transaction_id is acknowledged and ignored', body: ingestBody(context.clock) },
      },
      async (request, reply) => {
        await service.ingestUsage(request.context, {
          tenantId: request.auth.tenantId,
          events: request.body.map((event) => ({
            transactionId: event.transaction_id,
            customerRef: event.customer_id,
            eventType: event.event_type,
            timestamp: event.timestamp,
            properties: event.properties,
          })),
        });
        return reply.code(200).send();
      },
    );
  });
}

/** Ingest figures in the server's `/metrics` registry, from the batches this server's database handle commits. */
function registerIngestMetrics(app: App, context: ServiceContext): void {
  const registers = [app.metricsRegistry];
  const events = new Counter({
    name: 'allot_ingest_events_total',
    help: 'Events received by POST /v1/ingest and committed, by outcome: accepted (new) or duplicate (transaction_id already stored)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const unmatched = new Counter({
    name: 'allot_ingest_unmatched_events_total',
    help: 'New events stored with no customer: their customer_id is neither a customer id nor an ingest alias of the tenant (GET /v1/allot/events/unmatched lists them)',
    registers,
  });
  const batchSize = new Histogram({
    name: 'allot_ingest_batch_events',
    help: 'Events per ingest transaction (concurrent calls are committed together)',
    buckets: [1, 10, 100, 250, 500, 1000, 2500, 5000],
    registers,
  });
  const batchRequests = new Histogram({
    name: 'allot_ingest_batch_requests',
    help: 'Ingest calls per ingest transaction',
    buckets: [1, 2, 5, 10, 20, 50],
    registers,
  });
  const commitDuration = new Histogram({
    name: 'allot_ingest_batch_commit_duration_seconds',
    help: 'Duration of an ingest transaction, from its start to the end of its commit',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  events.inc({ outcome: 'accepted' }, 0);
  events.inc({ outcome: 'duplicate' }, 0);
  unmatched.inc(0);
  const unsubscribe = service.onIngestBatchCommitted(context, (batch) => {
    events.inc({ outcome: 'accepted' }, batch.accepted);
    events.inc({ outcome: 'duplicate' }, batch.duplicates);
    unmatched.inc(batch.unmatched);
    batchSize.observe(batch.events);
    batchRequests.observe(batch.requests);
    commitDuration.observe(batch.seconds);
  });
  app.addHook('onClose', async () => unsubscribe());
}
