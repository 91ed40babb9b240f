import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, mapConcurrently } from '../lib/http.js';
import { progress } from '../lib/progress.js';
import { summarizeLatencies } from '../lib/stats.js';
import { EVENT_TYPE, REQUEST_PRICE, TOKEN_PRICE, type BenchCustomer } from '../environment/tenant.js';
import { startLoadInChild } from '../load/runLoad.js';
import { checkpoint } from '../environment/database.js';
import type { AlertKind } from '../options.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Phase } from './context.js';
import { loadFigures } from './loadFigures.js';
import { measuredWindow } from './phaseWindow.js';

/** The alert type each `--alert-kind` times, and the webhook its crossing sends. */
const ALERT_TYPES: Record<AlertKind, string> = {
  usage: 'usage_threshold_reached',
  balance: 'low_remaining_contract_credit_and_commit_balance_reached',
};
const webhookTypeOf = (kind: AlertKind) => `alerts.${ALERT_TYPES[kind]}`;
/** `usage`: the event type of the probe metric, which the load never sends. */
const PROBE_EVENT_TYPE = 'alert_probe';
/**
 * `balance`: the probe is an ordinary `api_call` with this many tokens, so that both priced
 * metrics count it and it costs 200,000 × 0.0001 + 0.01 = 20.01 AI credits (a load event costs at
 * most 0.21); the alert's threshold is the balance read just before, less `BALANCE_MARGIN`.
 */
const PROBE_TOKENS = 200_000;
const PROBE_COST = PROBE_TOKENS * Number(TOKEN_PRICE) + Number(REQUEST_PRICE);
/**
 * AI credits between the balance read before a probe and its alert's threshold: what the load can
 * drain from one customer in the few ms between that read and the probe is far less (about 0.1
 * credits a second per customer at 1,000 events/s spread over 1,000 customers), and the probe costs
 * far more.
 */
const BALANCE_MARGIN = 2;
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
  /** `remaining_balance` of a balance alert's webhook. */
  remainingBalance: unknown;
}

/** A local endpoint that notes when each alert's first `webhookType` webhook arrived (`performance.now()`), and answers 200. */
async function startReceiver(webhookType: string) {
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
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          type?: string;
          properties?: { alert_id?: string; triggered_by?: unknown; remaining_balance?: unknown };
        };
        const alertId = body.properties?.alert_id;
        if (body.type !== webhookType || typeof alertId !== 'string') unexpected++;
        else if (arrivals.has(alertId)) duplicates++;
        else arrivals.set(alertId, { at, triggeredBy: body.properties?.triggered_by, remainingBalance: body.properties?.remaining_balance });
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
  /** Unset when the balance read or the alert's creation before the probe failed (then `failure` says why). */
  alertId?: string;
  customerId: string;
  /** `balance`: the alert's threshold, in AI credits. */
  threshold?: number;
  /** `balance`: ms from the balance read to the alert created, just before the probe. */
  prepMs?: number;
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
/** How many of the slowest samples the figure lists, each split by where its time went. */
const SLOWEST_LISTED = 8;

async function serverSideSplit(context: BenchContext, webhookType: string, probes: Probe[], latencyOf: (probe: Probe) => number) {
  const { rows } = await context.database.pool.query<{ alert_id: string; written_at: Date; first_attempt_at: Date | null; attempts: number }>(
    `SELECT e.body::jsonb -> 'properties' ->> 'alert_id' AS alert_id, e.created_at AS written_at,
            (SELECT min(a.started_at) FROM webhook_attempts a WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.id) AS first_attempt_at,
            d.attempts
       FROM webhook_events e JOIN webhook_deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
      WHERE e.tenant_id = $1 AND e.type = $2`,
    [context.tenantId, webhookType],
  );
  const byAlert = new Map(rows.map((row) => [row.alert_id, row]));
  const toOutbox: number[] = [];
  const outboxToAttempt: number[] = [];
  let retried = 0;
  for (const probe of probes) {
    const row = probe.alertId === undefined ? undefined : byAlert.get(probe.alertId);
    if (!row) continue;
    toOutbox.push(row.written_at.getTime() - probe.sentWallMs);
    if (row.first_attempt_at) outboxToAttempt.push(row.first_attempt_at.getTime() - row.written_at.getTime());
    if (row.attempts > 1) retried++;
  }
  const brief = (values: number[]) => {
    const summary = summarizeLatencies(values);
    return { p50_ms: summary.p50_ms, p99_ms: summary.p99_ms, max_ms: summary.max_ms };
  };
  // The slowest samples, each with when it was sent (s after the first probe) and its time split: do they bunch in time, and where did it go?
  const firstSent = Math.min(...probes.map((probe) => probe.sentWallMs));
  const slowest = [...probes]
    .sort((a, b) => latencyOf(b) - latencyOf(a))
    .slice(0, SLOWEST_LISTED)
    .map((probe) => {
      const row = probe.alertId === undefined ? undefined : byAlert.get(probe.alertId);
      return {
        sent_at_s: Math.round((probe.sentWallMs - firstSent) / 100) / 10,
        total_ms: Math.round(latencyOf(probe)),
        ingest_answered_ms: probe.answeredAt === undefined ? null : Math.round(probe.answeredAt - probe.sentAt),
        to_outbox_ms: row ? row.written_at.getTime() - probe.sentWallMs : null,
        outbox_to_first_attempt_ms: row?.first_attempt_at ? row.first_attempt_at.getTime() - row.written_at.getTime() : null,
      };
    });
  // In send order, ten slices of the probes: does the latency settle, or is it steady?
  const inOrder = [...probes].sort((a, b) => a.sentWallMs - b.sentWallMs);
  const slices = Array.from({ length: 10 }, (_, slice) => {
    const part = inOrder.slice(Math.floor((slice * inOrder.length) / 10), Math.floor(((slice + 1) * inOrder.length) / 10));
    const summary = summarizeLatencies(part.map(latencyOf).filter(Number.isFinite));
    return { from_s: part.length ? Math.round((part[0]!.sentWallMs - firstSent) / 100) / 10 : null, p50_ms: summary.p50_ms, max_ms: summary.max_ms };
  });
  return {
    note: 'from the server’s records, ms-accurate (wall clocks of one machine): probe sent → webhook written to the outbox by the evaluation, and → first delivery attempt started',
    webhooks_written: toOutbox.length,
    probe_to_outbox: brief(toOutbox),
    outbox_to_first_attempt: brief(outboxToAttempt),
    deliveries_with_more_than_one_attempt: retried,
    first_probe_sent_at: new Date(firstSent).toISOString(),
    slowest_samples: slowest,
    by_send_time: slices,
  };
}

/**
 * Event → alert webhook received (the targets (docs/rules.md): p99 ≤ 100 ms for usage alerts, ≤ 300 ms for balance alerts), while ingest runs in the background at
 * half the measured peak, for 50 sample customers (`--alert-samples`).
 *
 * - `usage` (`--alert-kind`, the default): each sample has a `usage_threshold_reached` alert at 1
 *   on a COUNT metric of `alert_probe` events, which the load never sends: one such event crosses
 *   it. After an ingest commit the server re-evaluates a usage alert only when its own metric
 *   counted events, so the load's commits never evaluate these alerts: the cheapest case.
 * - `balance`: each sample has a `low_remaining_contract_credit_and_commit_balance_reached` alert
 *   in AI credits. A balance alert is re-evaluated after every ingest commit that priced any event
 *   of its customer, so the load keeps evaluating them: the expensive case. Each sample customer
 *   gets a standing alert at 0 (never reached) before the load starts, so that this holds from the
 *   first probe; then, just before its probe, the bench reads the customer's net balance and
 *   creates the timed alert (evaluated on creation: ok) at that balance less 2 credits, and the
 *   probe is one `api_call` of 200,000 tokens (20.01 credits). A webhook whose `remaining_balance`
 *   does not include the probe's cost was set off by the load, not the probe: such a sample is
 *   counted in `crossed_without_the_probe` and left out of the latencies.
 *
 * The latency is from just before the probe's `POST /v1/ingest` to the webhook's arrival at a
 * local endpoint.
 */
export const alertLatency: Phase = {
  name: 'alerts',
  async run(context) {
    const { options, server, tenant } = context;
    const kind = options.alertKind;
    const alertType = ALERT_TYPES[kind];
    const webhookType = webhookTypeOf(kind);
    const samples = Math.min(options.alertSamples, tenant.customers.length);
    if (samples < options.alertSamples) {
      progress(`alerts: only ${tenant.customers.length} customers, so ${samples} samples instead of ${options.alertSamples} (one alert per customer)`);
    }
    const peak = context.figures.ingest_throughput?.value;
    const eventsPerSecond = peak ? peak * options.alertLoadFraction : FALLBACK_EVENTS_PER_SECOND;
    const loadBasis = peak
      ? `${options.alertLoadFraction * 100}% of the measured peak of ${peak} events/s`
      : 'a fixed rate: the throughput phase did not run';

    const receiver = await startReceiver(webhookType);
    const client = new ApiClient(server.baseUrl, server.key, { connections: 8 });
    try {
      progress(`alerts: registering ${receiver.url} for ${webhookType}, ${kind === 'usage' ? `creating ${samples} usage alerts` : `${samples} customers with balance alerts`}`);
      await client.json('POST', '/v1/allot/webhooks', { url: receiver.url, event_types: [webhookType], description: 'bench: alert latency' });
      // Customers spread over the whole list; the load sends to all of them at random.
      const customers = Array.from({ length: samples }, (_, index) => tenant.customers[Math.floor((index * tenant.customers.length) / samples)]!);
      const createAlert = async (body: Record<string, unknown>) =>
        (await client.json<{ data: { id: string } }>('POST', '/v1/alerts/create', { alert_type: alertType, ...body })).data.id;
      /** The alert each sample's probe crosses, by sample index: created now (`usage`) or just before the probe (`balance`). */
      const alertIds: (string | undefined)[] = [];
      if (kind === 'usage') {
        const metric = await client.json<{ data: { id: string } }>('POST', '/v1/billable-metrics/create', {
          name: 'Alert probe',
          event_type_filter: { in_values: [PROBE_EVENT_TYPE] },
          aggregation_type: 'COUNT',
        });
        alertIds.push(
          ...(await mapConcurrently(customers, 4, (customer, index) =>
            createAlert({ name: `Bench alert probe ${index}`, threshold: 1, billable_metric_id: metric.data.id, customer_id: customer.id }),
          )),
        );
      } else {
        await mapConcurrently(customers, 4, (customer, index) =>
          createAlert({ name: `Bench balance watch ${index}`, threshold: 0, credit_type_id: tenant.plan.aiCredits, customer_id: customer.id }),
        );
      }
      if (receiver.arrivals.size > 0) throw new Error(`${receiver.arrivals.size} alerts fired on creation, before any probe`);

      /** `balance`: reads the customer's net balance and creates the alert the probe will cross. */
      const prepareBalanceProbe = async (customer: BenchCustomer, index: number) => {
        const { data } = await client.json<{ data: { balance: number } }>('POST', '/v1/contracts/customerBalances/getNetBalance', {
          customer_id: customer.id,
          credit_type_id: tenant.plan.aiCredits,
        });
        const threshold = Number((data.balance - BALANCE_MARGIN).toFixed(6));
        const alertId = await createAlert({
          name: `Bench alert probe ${index}`,
          threshold,
          credit_type_id: tenant.plan.aiCredits,
          customer_id: customer.id,
          evaluate_on_create: true,
        });
        return { alertId, threshold };
      };
      const probeEvent = (customer: BenchCustomer, index: number) => ({
        transaction_id: `${context.runId}-alert-probe-${index}`,
        customer_id: customer.alias,
        timestamp: new Date().toISOString(),
        ...(kind === 'usage'
          ? { event_type: PROBE_EVENT_TYPE, properties: {} }
          : { event_type: EVENT_TYPE, properties: { user_id: 'user-0', team: 'team-0', tokens: PROBE_TOKENS } }),
      });

      const requestsPerSecond = eventsPerSecond / options.batchSize;
      // The load runs until the last probe's webhook has come or the stragglers' wait is over (`load.stop()` below), so
      // every probe is sent under it: a bound, not the plan. Balance probes leave later than their slots when the read
      // and the alert's creation before each are slow, and a load that ended on the plan's schedule left the last
      // probes without it (and timed them on an idle server).
      const loadMs = samples * PROBE_SPACING_MS * (kind === 'balance' ? 10 : 2) + STRAGGLER_WAIT_MS + 1000;
      // As the throughput and latency phases: the earlier phases' dirty pages are written now, not
      // by the backends folding this phase's load (DataFileWrite waits, seconds of it after a
      // throughput phase, which would time the previous phase rather than the alerts).
      await checkpoint(context.database.pool);
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
          for (const [index, customer] of customers.entries()) {
            // `balance`: the read and the alert's creation take part of the slot, so a probe leaves
            // a little after its slot starts (and later still when they are slow).
            await sleep(first + index * PROBE_SPACING_MS - performance.now());
            const probe: Probe = { alertId: alertIds[index], customerId: customer.id, sentAt: 0, sentWallMs: 0 };
            probes.push(probe);
            if (kind === 'balance') {
              const preparedAt = performance.now();
              try {
                Object.assign(probe, await prepareBalanceProbe(customer, index));
                probe.prepMs = performance.now() - preparedAt;
              } catch (error) {
                probe.failure = `before the probe: ${(error as Error).message.slice(0, 300)}`;
                continue;
              }
            }
            const event = probeEvent(customer, index);
            probe.sentAt = performance.now();
            probe.sentWallMs = Date.now();
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
          const lastSent = Math.max(...probes.map((probe) => probe.sentAt));
          const expected = probes.filter((probe) => probe.alertId !== undefined).length;
          while (receiver.arrivals.size < expected && performance.now() - lastSent < STRAGGLER_WAIT_MS) await sleep(50);
        } finally {
          load.stop();
        }
        return load.result;
      });

      const latencies: number[] = [];
      const timed: Probe[] = [];
      const triggeredBy: Record<string, number> = {};
      const missingAlerts: { alert_id: string | null; customer_id: string; ingest: string }[] = [];
      const crossedWithoutProbe: { alert_id: string; customer_id: string; threshold: number | undefined; remaining_balance: unknown; triggered_by: unknown; ms_after_probe_sent: number }[] = [];
      for (const probe of probes) {
        const arrival = probe.alertId === undefined ? undefined : receiver.arrivals.get(probe.alertId);
        if (!arrival) {
          missingAlerts.push({ alert_id: probe.alertId ?? null, customer_id: probe.customerId, ingest: probe.failure ?? String(probe.status) });
          continue;
        }
        // The probe's cost is in the balance the webhook reports only when the probe set it off.
        if (kind === 'balance' && !(typeof arrival.remainingBalance === 'number' && arrival.remainingBalance <= probe.threshold! - PROBE_COST / 2)) {
          crossedWithoutProbe.push({
            alert_id: probe.alertId!,
            customer_id: probe.customerId,
            threshold: probe.threshold,
            remaining_balance: arrival.remainingBalance,
            triggered_by: arrival.triggeredBy,
            ms_after_probe_sent: Math.round(arrival.at - probe.sentAt),
          });
          continue;
        }
        latencies.push(arrival.at - probe.sentAt);
        timed.push(probe);
        triggeredBy[String(arrival.triggeredBy)] = (triggeredBy[String(arrival.triggeredBy)] ?? 0) + 1;
      }
      const failedProbes = probes.filter((probe) => probe.failure).length;
      const summary = summarizeLatencies(latencies);
      const load = loadFigures(result);
      const split = await serverSideSplit(context, webhookType, timed, (probe) => receiver.arrivals.get(probe.alertId!)!.at - probe.sentAt);
      const answered = summarizeLatencies(probes.flatMap((probe) => (probe.answeredAt === undefined ? [] : [probe.answeredAt - probe.sentAt])));
      const prep = summarizeLatencies(probes.flatMap((probe) => (probe.prepMs === undefined ? [] : [probe.prepMs])));
      const missing = missingAlerts.length;
      progress(
        `alerts (${kind}): event → webhook p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms; ${latencies.length} of ${probes.length} arrived within ${STRAGGLER_WAIT_MS / 1000} s` +
          `${crossedWithoutProbe.length > 0 ? ` (${crossedWithoutProbe.length} more crossed without the probe)` : ''}; background ${load.events_per_s} events/s`,
      );
      const target = TARGETS.alertWebhookP99Ms[kind];
      const met = latencies.length > 0 && missing === 0 && failedProbes === 0 && summary.p99_ms <= target.value;
      context.figures.alert_webhook_latency = {
        value: latencies.length > 0 ? summary.p99_ms : null,
        unit: 'ms (p99)',
        target: target.text,
        met,
        alert_kind: kind,
        alert_type: alertType,
        p50_ms: summary.p50_ms,
        p90_ms: summary.p90_ms,
        max_ms: summary.max_ms,
        samples: probes.length,
        timed_samples: latencies.length,
        missing,
        ...(missing > 0 && { missing_samples: missingAlerts.slice(0, 10) }),
        failed_probes: failedProbes,
        ...(kind === 'balance' && {
          balance_probe: {
            note: 'each probe: getNetBalance, then the alert created at that balance less the margin (evaluated on creation), then one api_call costing probe_cost_credits',
            margin_credits: BALANCE_MARGIN,
            probe_cost_credits: PROBE_COST,
            standing_alerts_at_0: samples,
            read_and_create_before_probe: { p50_ms: prep.p50_ms, p99_ms: prep.p99_ms, max_ms: prep.max_ms },
          },
          crossed_without_the_probe: crossedWithoutProbe.length,
          ...(crossedWithoutProbe.length > 0 && { crossed_without_the_probe_samples: crossedWithoutProbe.slice(0, 10) }),
        }),
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
