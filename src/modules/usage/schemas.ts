import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import { text, textProblem } from '../../lib/text.js';
import { instant } from '../../lib/time.js';

/** A batch is 1–100 events (DESIGN rule 12). */
export const MAX_EVENTS_PER_CALL = 100;
/** Timestamps may be at most this far ahead of the clock (rule 12). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
const EARLIEST_MS = Date.UTC(1970, 0, 1);
/** How deep objects and arrays may nest inside `properties`. */
export const MAX_PROPERTY_DEPTH = 32;

const identifier = text().min(1, 'must not be empty').max(256, 'must be at most 256 characters');

type Properties = Record<string, unknown>;

/**
 * `properties`: an object whose every key and string (at any depth) PostgreSQL's `jsonb` can
 * store as given, nesting at most 32 deep. Problems are reported with their path,
 * e.g. `3.properties.user_id: must not contain the NUL character`.
 */
const properties = z.unknown().transform((value, context) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    context.addIssue({ code: 'custom', message: 'must be an object of properties, e.g. {"tokens": 12}' });
    return z.NEVER;
  }
  const walk = (node: unknown, path: Array<string | number>, depth: number): void => {
    if (typeof node === 'string') {
      const problem = textProblem(node);
      if (problem) context.addIssue({ code: 'custom', path, message: problem });
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    if (depth > MAX_PROPERTY_DEPTH) {
      context.addIssue({ code: 'custom', path, message: `nests deeper than ${MAX_PROPERTY_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, [...path, index], depth + 1));
      return;
    }
    for (const key of Object.keys(node)) {
      const problem = textProblem(key);
      if (problem) context.addIssue({ code: 'custom', path: [...path, key], message: `the key ${problem}` });
      walk((node as Properties)[key], [...path, key], depth + 1);
    }
  };
  walk(value, [], 1);
  return value as Properties;
});

/**
 * The body of `POST /v1/ingest`, as the SDK's `v1.usage.ingest({ usage })` sends it: the array of
 * events itself. `clock` decides what "more than 24 hours in the future" means.
 */
export function ingestBody(clock: Clock) {
  const timestamp = instant.superRefine((value, context) => {
    const at = value.getTime();
    if (at < EARLIEST_MS) context.addIssue({ code: 'custom', message: 'must not be before 1970-01-01T00:00:00Z' });
    const latest = clock.now().getTime() + MAX_FUTURE_MS;
    if (at > latest) {
      context.addIssue({ code: 'custom', message: `must not be more than 24 hours in the future (at most ${new Date(latest).toISOString()})` });
    }
  });
  const event = z.strictObject({
    transaction_id: identifier.describe('Unique per tenant: an event with a transaction_id seen before is acknowledged and ignored'),
    customer_id: identifier.describe('A customer id or one of its ingest aliases'),
    event_type: identifier,
    timestamp,
    properties: properties.optional(),
  });
  return z
    .array(event)
    .min(1, `must hold 1 to ${MAX_EVENTS_PER_CALL} events`)
    .max(MAX_EVENTS_PER_CALL, `must hold 1 to ${MAX_EVENTS_PER_CALL} events`);
}

export type IngestEventInput = z.infer<ReturnType<typeof ingestBody>>[number];
