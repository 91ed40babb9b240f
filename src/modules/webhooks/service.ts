import { randomBytes } from 'node:crypto';
import { systemClock } from '../../lib/clock.js';
import { signalAfterCommit, type ServiceContext } from '../../lib/context.js';
import type { Queryable } from '../../lib/db/database.js';
import { Conflict, Invalid, NotFound } from '../../lib/errors.js';
import { isUuid, newId } from '../../lib/ids.js';
import { fetchPage } from '../../lib/pagination.js';
import { refusedDestination, type Resolve } from './destination.js';
import * as repo from './repo.js';

export { isKnownEventType, reachedEventType, resolvedEventType, WEBHOOK_EVENT_TYPES } from './compute/eventTypes.js';

export type Endpoint = repo.EndpointRow;
export type DeliveryStatus = repo.DeliveryStatus;
export type Attempt = Omit<repo.AttemptRow, 'delivery_id'>;
export type Delivery = repo.DeliveryRow & { attempt_list: Attempt[] };

export interface NewEndpoint {
  url: string;
  secret?: string | undefined;
  event_types?: string[] | undefined;
  description?: string | undefined;
}

/**
 * Writes one webhook event to the outbox, inside the caller's transaction `db`: the event, whose
 * body is `JSON.stringify({ id, type, ...fields })` (the exact text every attempt sends and signs),
 * and one pending delivery, due at once, for each live endpoint of the tenant that takes `type`
 * (`event_types` null, or naming it). `fields` must already be JSON-safe (amounts as numbers or
 * strings, instants as ISO strings). `at` is when the fact happened, by the billing clock.
 *
 * With a `dedupeKey` the tenant has used before, nothing is written and the result is undefined;
 * otherwise it is the new event's id. After the transaction commits, call
 * `signalOutboxWritten(ctx, tenantId)` so that the worker sends at once instead of at its next poll:
 *
 * ```ts
 * await ctx.db.transaction((tx) => enqueueWebhookEvent(tx, { tenantId, type: 'contract.create', fields: { properties: { contract_id } }, at }));
 * signalOutboxWritten(ctx, tenantId);
 * ```
 */
export async function enqueueWebhookEvent(
  db: Queryable,
  {
    tenantId,
    type,
    fields,
    dedupeKey,
    at,
  }: {
    tenantId: string;
    type: string;
    fields: Record<string, unknown>;
    dedupeKey?: string | undefined;
    at: Date;
  },
): Promise<string | undefined> {
  const id = newId();
  // The envelope comes first, and a field named `id` or `type` cannot override it.
  const body = JSON.stringify({ id, type, ...withoutEnvelope(fields) });
  const inserted = await repo.insertEvent(db, { tenant_id: tenantId, id, type, body, dedupe_key: dedupeKey ?? null, created_at: at });
  if (!inserted.event_id) return undefined;
  if (inserted.endpoint_ids.length > 0) {
    await repo.insertDeliveries(db, {
      tenantId,
      eventId: id,
      ids: inserted.endpoint_ids.map(() => newId()),
      endpointIds: inserted.endpoint_ids,
      // Delivery bookkeeping runs on the wall clock, never the billing clock (see the README).
      at: systemClock.now(),
    });
  }
  return id;
}

function withoutEnvelope(fields: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, type: _type, ...rest } = fields;
  return rest;
}

/** Tells the delivery worker, once `ctx`'s changes are committed, that the tenant's outbox has new events. */
export function signalOutboxWritten(ctx: ServiceContext, tenantId: string): void {
  signalAfterCommit(ctx, 'outboxWritten', { tenantId });
}

/** Which of `dedupeKeys` the tenant's outbox already holds (producers skip writing what was written). */
export async function writtenDedupeKeys(db: Queryable, tenantId: string, dedupeKeys: readonly string[]): Promise<Set<string>> {
  return new Set(dedupeKeys.length === 0 ? [] : await repo.writtenDedupeKeys(db, tenantId, dedupeKeys));
}

/**
 * Whether any live endpoint of the tenant takes one of `types`: lets a producer skip the work of
 * building events nobody receives.
 */
export async function hasSubscribers(db: Queryable, tenantId: string, types: readonly string[]): Promise<boolean> {
  return repo.hasSubscribers(db, tenantId, types);
}

/** The tenants with a live endpoint that takes one of `types`. */
export async function tenantsSubscribedTo(db: Queryable, types: readonly string[]): Promise<string[]> {
  return repo.tenantsSubscribedTo(db, types);
}

/**
 * Registers an endpoint. Without a secret, one of 32 random bytes (64 hex characters) is made.
 * Unless `allowPrivateAddresses`, a URL whose host is, or resolves to, a loopback, private,
 * link-local or cloud metadata address is a 400 naming `url` (`http://10.0.0.5/hooks`,
 * `http://localhost:8080`); deliveries check again when they connect.
 */
export async function createEndpoint(
  { db, clock }: ServiceContext,
  { tenantId, endpoint, allowPrivateAddresses, resolve }: { tenantId: string; endpoint: NewEndpoint; allowPrivateAddresses: boolean; resolve?: Resolve | undefined },
): Promise<Endpoint> {
  if (!allowPrivateAddresses) {
    const refused = await refusedDestination(endpoint.url, resolve ? { resolve } : {});
    if (refused) throw new Invalid('url', refused);
  }
  const row: Endpoint = {
    tenant_id: tenantId,
    id: newId(),
    url: endpoint.url,
    secret: endpoint.secret ?? randomBytes(32).toString('hex'),
    event_types: endpoint.event_types ? [...new Set(endpoint.event_types)] : null,
    description: endpoint.description ?? null,
    created_at: clock.now(),
    archived_at: null,
  };
  await repo.insertEndpoint(db, row);
  return row;
}

/** The endpoint, archived or not; another tenant's is a 404. */
export async function getEndpoint({ db }: ServiceContext, { tenantId, endpointId }: { tenantId: string; endpointId: string }): Promise<Endpoint> {
  return requireEndpoint(db, tenantId, endpointId);
}

/** A page of the tenant's endpoints, oldest first; archived ones only when asked for. */
export async function listEndpoints(
  { db }: ServiceContext,
  { tenantId, limit, nextPage, includeArchived }: { tenantId: string; limit: number; nextPage?: string | undefined; includeArchived: boolean },
): Promise<{ endpoints: Endpoint[]; nextPage: string | null }> {
  const page = await fetchPage({ limit, nextPage }, (window) => repo.listEndpoints(db, tenantId, { ...window, includeArchived }));
  return { endpoints: page.rows, nextPage: page.nextPage };
}

/**
 * Archives an endpoint: it gets no new deliveries, and its pending ones fail (an attempt already
 * in flight is still recorded). Archiving an archived endpoint changes nothing.
 */
export async function archiveEndpoint({ db, clock }: ServiceContext, { tenantId, endpointId }: { tenantId: string; endpointId: string }): Promise<Endpoint> {
  return db.transaction(async (tx) => {
    const endpoint = await requireEndpoint(tx, tenantId, endpointId, { forUpdate: true });
    if (endpoint.archived_at) return endpoint;
    await repo.archiveEndpoint(tx, tenantId, endpointId, clock.now());
    await repo.failPendingDeliveries(tx, tenantId, endpointId, systemClock.now());
    return (await repo.findEndpoint(tx, tenantId, endpointId))!;
  });
}

/** A page of the endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(
  { db }: ServiceContext,
  {
    tenantId,
    endpointId,
    limit,
    nextPage,
    status,
  }: { tenantId: string; endpointId: string; limit: number; nextPage?: string | undefined; status?: DeliveryStatus | undefined },
): Promise<{ deliveries: Delivery[]; nextPage: string | null }> {
  await requireEndpoint(db, tenantId, endpointId);
  const page = await fetchPage({ limit, nextPage }, ({ afterId, limit: fetchLimit }) =>
    repo.listDeliveries(db, tenantId, endpointId, { beforeId: afterId, limit: fetchLimit, status: status ?? null }),
  );
  return { deliveries: await withAttempts(db, tenantId, page.rows), nextPage: page.nextPage };
}

/**
 * Sends a finished delivery again: a failed or delivered one goes back to pending, due at once,
 * with `maxAttempts` more attempts than it has made. A pending one is a 409 (it is still being
 * tried), and so is one whose endpoint is archived.
 */
export async function retryDelivery(
  ctx: ServiceContext,
  { tenantId, endpointId, deliveryId, maxAttempts }: { tenantId: string; endpointId: string; deliveryId: string; maxAttempts: number },
): Promise<Delivery> {
  const delivery = await ctx.db.transaction(async (tx) => {
    const endpoint = await requireEndpoint(tx, tenantId, endpointId, { forUpdate: true });
    const found = isUuid(deliveryId) ? await repo.findDelivery(tx, tenantId, endpointId, deliveryId, { forUpdate: true }) : undefined;
    if (!found) throw new NotFound(`No delivery with id ${deliveryId} to webhook endpoint ${endpointId}`);
    if (found.status === 'pending') throw new Conflict(`Delivery ${deliveryId} is still pending; only a delivered or failed delivery can be retried`);
    if (endpoint.archived_at) throw new Conflict(`Webhook endpoint ${endpointId} is archived; its deliveries cannot be retried`);
    await repo.requeueDelivery(tx, tenantId, deliveryId, { at: systemClock.now(), maxAttempts: found.attempts + maxAttempts });
    return (await repo.findDelivery(tx, tenantId, endpointId, deliveryId))!;
  });
  signalOutboxWritten(ctx, tenantId);
  return (await withAttempts(ctx.db, tenantId, [delivery]))[0]!;
}

async function requireEndpoint(db: Queryable, tenantId: string, endpointId: string, options: { forUpdate?: boolean } = {}): Promise<Endpoint> {
  const endpoint = isUuid(endpointId) ? await repo.findEndpoint(db, tenantId, endpointId, options) : undefined;
  if (!endpoint) throw new NotFound(`No webhook endpoint with id ${endpointId}`);
  return endpoint;
}

async function withAttempts(db: Queryable, tenantId: string, deliveries: repo.DeliveryRow[]): Promise<Delivery[]> {
  const attempts = await repo.listAttempts(db, tenantId, deliveries.map((delivery) => delivery.id));
  const byDelivery = new Map<string, Attempt[]>();
  for (const { delivery_id: deliveryId, ...attempt } of attempts) {
    const list = byDelivery.get(deliveryId);
    if (list) list.push(attempt);
    else byDelivery.set(deliveryId, [attempt]);
  }
  return deliveries.map((delivery) => ({ ...delivery, attempt_list: byDelivery.get(delivery.id) ?? [] }));
}

/**
 * Why a failed delivery failed, or null for one that has not: its endpoint was archived while it
 * was pending (it then has attempts left), or it used up its attempts.
 */
export function failureReason(delivery: Pick<Delivery, 'status' | 'attempts' | 'attempt_list'> & { max_attempts: number }): string | null {
  if (delivery.status !== 'failed') return null;
  if (delivery.attempts < delivery.max_attempts) return 'the endpoint was archived before the delivery succeeded';
  const last = delivery.attempt_list.at(-1);
  const outcome = last ? (last.status_code !== null ? `answered ${last.status_code}` : `failed: ${last.error ?? 'unknown error'}`) : 'was not recorded';
  return `gave up after ${delivery.attempts} attempts; the last ${outcome}`;
}
