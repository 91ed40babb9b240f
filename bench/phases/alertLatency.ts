import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, mapConcurrently } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { summarizeLatencies } from '../lib/stats.js';
import { startLoadInChild } from '../load/runLoad.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Phase } from './context.js';
import { loadFigures } from './loadFigures.js';
import { measuredWindow } from './phaseWindow.js';

const WEBHOOK_TYPE = 'alerts.usage_threshold_reached';
const PROBE_EVENT_TYPE = 'alert_probe';
/** The background load's warm-up: probes start once it is over. */
const WARMUP_MS = 2000;
/** Between two probes. */
const PROBE_SPACING_MS = 200;
/** How long to wait after the last probe for webhooks still to come; one later than this is missing. */
const STRAGGLER_WAIT_MS = 10_000;
/** The background load when the throughput phase did not run (no peak to take a fraction of). */
const FALLBACK_EVENTS_PER_SECOND = 1000;

interface Arrival {
  at: number;
  triggeredBy: unknown;
}

/** A local endpoint that notes when each alert's first webhook arrived (`performance.now()`), and answers 200. */
async function startReceiver() {
  const arrivals = new Map<string, Arrival>();
  let requests = 0;
  let duplicates = 0;
  let unexpected = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = performance.now();
      requests++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type?: string; properties?: { alert_id?: string; triggered_by?: unknown } };
        const alertId = body.properties?.alert_id;
        if (body.type !== WEBHOOK_TYPE || typeof alertId !== 'string') unexpected++;
        else if (arrivals.has(alertId)) duplicates++;
        else arrivals.set(alertId, { at, triggeredBy: body.properties?.triggered_by });
      } catch {
        unexpected++;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    arrivals,
    counts: () => ({ requests, duplicates, unexpected }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Probe {
  alertId: string;
  customerId: string;
  /** `performance.now()` and `Date.now()` just before the ingest call. */
  sentAt: number;
  sentWallMs: number;
  /** `performance.now()` when the ingest call was answered. */
  answeredAt?: number;
  status?: number;
  failure?: string;
}

/**
 * Where the time went, from the server's own records (its clock is this machine's): from the
 * probe to the evaluation that wrote the webhook to the outbox (`webhook_events.created_at`, the
 * evaluation's now), and from there to the start of the delivery's first attempt.
 */
async function serverSideSplit(context: BenchContext, probes: Probe[]) {
  const { rows } = await context.database.pool.query<{ alert_id: string; written_at: Date; first_attempt_at: Date | null; attempts: number }>(
    `SELECT e.body::jsonb -> 'properties' ->> 'alert_id' AS alert_id, e.created_at AS written_at,
            (SELECT min(a.started_at) FROM webhook_attempts a WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.id) AS first_attempt_at,
            d.attempts
       FROM webhook_events e JOIN webhook_deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
      WHERE e.tenant_id = $1 AND e.type = $2`,
    [context.tenantId, WEBHOOK_TYPE],
  );
  const byAlert = new Map(rows.map((row) => [row.alert_id, row]));
  const toOutbox: number[] = [];
  const outboxToAttempt: number[] = [];
  let retried = 0;
  for (const probe of probes) {
    const row = byAlert.get(probe.alertId);
    if (!row) continue;
    toOutbox.push(row.written_at.getTime() - probe.sentWallMs);
    if (row.first_attempt_at) outboxToAttempt.push(row.first_attempt_at.getTime() - row.written_at.getTime());
    if (row.attempts > 1) retried++;
  }
  const brief = (values: number[]) => {
    const summary = summarizeLatencies(values);
    return { p50_ms: summary.p50_ms, p99_ms: summary.p99_ms, max_ms: summary.max_ms };
  };
  return {
    note: 'from the server’s records, ms-accurate (wall clocks of one machine): probe sent → webhook written to the outbox by the evaluation, and → first delivery attempt started',
    webhooks_written: toOutbox.length,
    probe_to_outbox: brief(toOutbox),
    outbox_to_first_attempt: brief(outboxToAttempt),
    deliveries_with_more_than_one_attempt: retried,
  };
}

/**
 * Event → alert webhook received (DESIGN §6: p99 ≤ 1 s), while ingest runs in the background at
 * half the measured peak. Each sample is a customer with a `usage_threshold_reached` alert at 1
 * on a COUNT metric of `alert_probe` events: one such event crosses it, and the latency is from
 * just before that event's `POST /v1/ingest` to the webhook's arrival at a local endpoint.
 */
export const alertLatency: Phase = {
  name: 'alerts',
  async run(context) {
    const { options, server, tenant } = context;
    const samples = Math.min(options.alertSamples, tenant.customers.length);
    if (samples < options.alertSamples) {
      progress(`alerts: only ${tenant.customers.length} customers, so ${samples} samples instead of ${options.alertSamples} (one alert per customer)`);
    }
    const peak = context.figures.ingest_throughput?.value;
    const eventsPerSecond = peak ? peak * options.alertLoadFraction : FALLBACK_EVENTS_PER_SECOND;
    const loadBasis = peak
      ? `${options.alertLoadFraction * 100}% of the measured peak of ${peak} events/s`
      : 'a fixed rate: the throughput phase did not run';

    const receiver = await startReceiver();
    const client = new ApiClient(server.baseUrl, server.key, { connections: 8 });
    try {
      progress(`alerts: registering ${receiver.url} for ${WEBHOOK_TYPE}, creating ${samples} usage alerts`);
      await client.json('POST', '/v1/allot/webhooks', { url: receiver.url, event_types: [WEBHOOK_TYPE], description: 'bench: alert latency' });
      const metric = await client.json<{ data: { id: string } }>('POST', '/v1/billable-metrics/create', {
        name: 'Alert probe',
        event_type_filter: { in_values: [PROBE_EVENT_TYPE] },
        aggregation_type: 'COUNT',
      });
      // Customers spread over the whole list; the load sends to all of them at random.
      const customers = Array.from({ length: samples }, (_, index) => tenant.customers[Math.floor((index * tenant.customers.length) / samples)]!);
      const alerts = await mapConcurrently(customers, 4, async (customer, index) => {
        const created = await client.json<{ data: { id: string } }>('POST', '/v1/alerts/create', {
          alert_type: 'usage_threshold_reached',
          name: `Bench alert probe ${index}`,
          threshold: 1,
          billable_metric_id: metric.data.id,
          customer_id: customer.id,
        });
        return { alertId: created.data.id, customer };
      });
      if (receiver.arrivals.size > 0) throw new Error(`${receiver.arrivals.size} alerts fired on creation, before any probe`);

      const requestsPerSecond = eventsPerSecond / options.batchSize;
      const loadMs = samples * PROBE_SPACING_MS + STRAGGLER_WAIT_MS + 1000;
      progress(
        `alerts: ${Math.round(eventsPerSecond)} events/s in the background (${loadBasis}), open loop; ${samples} probes ${PROBE_SPACING_MS} ms apart after ${WARMUP_MS / 1000} s`,
      );
      const probes: Probe[] = [];
      const { result, cores } = await measuredWindow(context, 'alerts', async () => {
        const load = startLoadInChild(
          context.loadSpec('alerts', { target: 'http', pacing: 'open', requestsPerSecond, warmupMs: WARMUP_MS, durationMs: loadMs }),
        );
        // Awaited below; this only keeps a failure during the probes from also going unhandled here.
        load.result.catch(() => {});
        try {
          await Promise.race([load.started, load.result]);
          await sleep(WARMUP_MS);
          const sends: Promise<void>[] = [];
          const first = performance.now();
          for (const [index, { alertId, customer }] of alerts.entries()) {
            await sleep(first + index * PROBE_SPACING_MS - performance.now());
            const event = { transaction_id: `${context.runId}-alert-probe-${index}`, customer_id: customer.alias, event_type: PROBE_EVENT_TYPE, timestamp: new Date().toISOString(), properties: {} };
            const probe: Probe = { alertId, customerId: customer.id, sentAt: performance.now(), sentWallMs: Date.now() };
            probes.push(probe);
            // Not awaited: probes leave on schedule, however long the server takes to answer one.
            sends.push(
              client.post('/v1/ingest', [event]).then(
                (response) => {
                  probe.answeredAt = performance.now();
                  probe.status = response.status;
                  if (response.status !== 200) probe.failure = `${response.status}: ${response.body.slice(0, 200)}`;
                },
                (error: Error) => {
                  probe.failure = error.message;
                },
              ),
            );
          }
          await Promise.all(sends);
          const lastSent = probes[probes.length - 1]!.sentAt;
          while (receiver.arrivals.size < probes.length && performance.now() - lastSent < STRAGGLER_WAIT_MS) await sleep(50);
        } finally {
          load.stop();
        }
        return load.result;
      });

      const latencies: number[] = [];
      const triggeredBy: Record<string, number> = {};
      const missingAlerts: { alert_id: string; customer_id: string; ingest: string }[] = [];
      for (const probe of probes) {
        const arrival = receiver.arrivals.get(probe.alertId);
        if (!arrival) {
          missingAlerts.push({ alert_id: probe.alertId, customer_id: probe.customerId, ingest: probe.failure ?? String(probe.status) });
          continue;
        }
        latencies.push(arrival.at - probe.sentAt);
        triggeredBy[String(arrival.triggeredBy)] = (triggeredBy[String(arrival.triggeredBy)] ?? 0) + 1;
      }
      const failedProbes = probes.filter((probe) => probe.failure).length;
      const summary = summarizeLatencies(latencies);
      const load = loadFigures(result);
      const split = await serverSideSplit(context, probes);
      const answered = summarizeLatencies(probes.flatMap((probe) => (probe.answeredAt === undefined ? [] : [probe.answeredAt - probe.sentAt])));
      const missing = missingAlerts.length;
      progress(
        `alerts: event → webhook p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms; ${latencies.length} of ${probes.length} arrived within ${STRAGGLER_WAIT_MS / 1000} s; background ${load.events_per_s} events/s`,
      );
      const met = latencies.length > 0 && missing === 0 && failedProbes === 0 && summary.p99_ms <= TARGETS.alertWebhookP99Ms.value;
      context.figures.alert_webhook_latency = {
        value: latencies.length > 0 ? summary.p99_ms : null,
        unit: 'ms (p99)',
        target: TARGETS.alertWebhookP99Ms.text,
        met,
        p50_ms: summary.p50_ms,
        p90_ms: summary.p90_ms,
        max_ms: summary.max_ms,
        samples: probes.length,
        missing,
        ...(missing > 0 && { missing_samples: missingAlerts.slice(0, 10) }),
        failed_probes: failedProbes,
        waited_for_stragglers_s: STRAGGLER_WAIT_MS / 1000,
        triggered_by: triggeredBy,
        webhook_requests: receiver.counts(),
        probe_ingest_answered: { p50_ms: answered.p50_ms, p99_ms: answered.p99_ms, max_ms: answered.max_ms },
        server_side: split,
        load_events_per_s: load.events_per_s,
        load_offered_events_per_s: Math.round(eventsPerSecond),
        load_basis: loadBasis,
        load_failed_requests: load.failed_requests,
        load_request_latency: { p50_ms: load.latency.p50_ms, p99_ms: load.latency.p99_ms },
        cores_used: cores,
      };
    } finally {
      client.close();
      await receiver.close();
    }
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
