import { z } from 'zod';
import type { Clock } from '../../lib/clock.js';
import { textProblem } from '../../lib/text.js';
import { isBoundedDecimal, isBoundedNumber, numericReading, NUMBER_BOUND_RULE } from './compute/propertyValues.js';
import { NumberLiteral } from './ingestBody.js';

/** A batch is 1–100 events (docs/rules.md rule 12). */
export const MAX_EVENTS_PER_CALL = 100;
/** Timestamps may be at most this far ahead of the clock (rule 12). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
const EARLIEST_MS = Date.UTC(1970, 0, 1);
/** How deep objects and arrays may nest inside `properties`. */
export const MAX_PROPERTY_DEPTH = 32;

// A number literal the parser kept as its digits is still a number here, not the string an identifier must be.
const identifier = z
  .string({ error: (issue) => (issue.input instanceof NumberLiteral ? 'Invalid input: expected string, received number' : undefined) })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters');
const RFC3339 = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 instant with a time zone, e.g. 2024-01-01T00:00:00Z' });

type Properties = Record<string, unknown>;
type Issue = { path: Array<string | number>; message: string };

/**
 * The problems of `properties` that its shape does not show: every key and string (at any depth)
 * must be storable by PostgreSQL's `jsonb` as given, nesting is at most 32 deep, and every JSON
 * number (at any depth) is within the number bound (`NUMBER_BOUND`: `1e400`, `1e16` and 31
 * significant digits are refused). A number the parser kept as its digits (`NumberLiteral`) is
 * replaced by them, as it is stored.
 */
function propertyProblems(properties: Properties, issues: Issue[]): void {
  // One path, extended and restored on the way down; copied only for a problem.
  const path: Array<string | number> = [];
  const walk = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') {
      const problem = storableTextProblem(node);
      if (problem) issues.push({ path: [...path], message: problem });
      return node;
    }
    if (typeof node === 'number') {
      if (!isBoundedNumber(node)) issues.push({ path: [...path], message: NUMBER_BOUND_RULE });
      return node;
    }
    if (node instanceof NumberLiteral) {
      if (!isBoundedDecimal(numericReading(node.digits)!)) issues.push({ path: [...path], message: NUMBER_BOUND_RULE });
      return node.digits;
    }
    if (typeof node !== 'object' || node === null) return node;
    if (depth > MAX_PROPERTY_DEPTH) {
      issues.push({ path: [...path], message: `nests deeper than ${MAX_PROPERTY_DEPTH} levels` });
      return node;
    }
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        path.push(index);
        const item: unknown = node[index];
        const stored = walk(item, depth + 1);
        if (stored !== item) node[index] = stored;
        path.pop();
      }
      return node;
    }
    for (const key of Object.keys(node)) {
      path.push(key);
      const problem = storableTextProblem(key);
      if (problem) issues.push({ path: [...path], message: `the key ${problem}` });
      const value = (node as Properties)[key];
      const stored = walk(value, depth + 1);
      if (stored !== value) (node as Properties)[key] = stored;
      path.pop();
    }
    return node;
  };
  walk(properties, 1);
}

// Almost all text has neither a NUL nor a surrogate; only text that has one needs a closer look.
const SUSPECT = /[\u0000\ud800-\udfff]/;
const storableTextProblem = (value: string) => (SUSPECT.test(value) ? textProblem(value) : undefined);

/**
 * The body of `POST /v1/ingest`, as the SDK's `v1.usage.ingest({ usage })` sends it: the array of
 * events itself. `clock` decides what "more than 24 hours in the future" means.
 *
 * The shape is checked field by field; what needs more than a type (text PostgreSQL can store,
 * the timestamp's range, the properties' keys and depth) is checked in one pass per event, because
 * this schema runs for every event of the hot path. Problems carry their path either way:
 * `3.timestamp`, `3.properties.user_id`.
 */
export function ingestBody(clock: Clock) {
  const event = z
    .strictObject({
      transaction_id: identifier.describe('Unique per tenant: an event with a transaction_id seen before is acknowledged and ignored'),
      customer_id: identifier.describe('A customer id or one of its ingest aliases'),
      event_type: identifier,
      timestamp: RFC3339.describe('RFC 3339 instant, at most 24 hours after the current time'),
      // Checked below rather than by a record schema, which would copy the object and drop a key
      // named __proto__ (an ordinary property of an event, kept as sent).
      properties: z
        .unknown()
        .superRefine((properties, context) => {
          if (properties === undefined) return;
          const issues: Issue[] = [];
          if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
            issues.push({ path: [], message: 'must be an object of properties, e.g. {"tokens": 12}' });
          } else {
            propertyProblems(properties as Properties, issues);
          }
          for (const issue of issues) context.addIssue({ code: 'custom', ...issue });
        })
        .optional()
        .describe('An object: strings, numbers, booleans, null, nested objects and arrays'),
    })
    .transform((input, context) => {
      const issues: Issue[] = [];
      for (const field of ['transaction_id', 'customer_id', 'event_type'] as const) {
        const problem = storableTextProblem(input[field]);
        if (problem) issues.push({ path: [field], message: problem });
      }
      const timestamp = new Date(input.timestamp);
      const at = timestamp.getTime();
      if (at < EARLIEST_MS) issues.push({ path: ['timestamp'], message: 'must not be before 1970-01-01T00:00:00Z' });
      const latest = clock.now().getTime() + MAX_FUTURE_MS;
      if (at > latest) {
        issues.push({ path: ['timestamp'], message: `must not be more than 24 hours in the future (at most ${new Date(latest).toISOString()})` });
      }
      for (const issue of issues) context.addIssue({ code: 'custom', ...issue });
      return { ...input, timestamp, properties: (input.properties ?? {}) as Properties };
    });
  return z
    .array(event)
    .min(1, `must hold 1 to ${MAX_EVENTS_PER_CALL} events`)
    .max(MAX_EVENTS_PER_CALL, `must hold 1 to ${MAX_EVENTS_PER_CALL} events`);
}

export type IngestEventInput = z.infer<ReturnType<typeof ingestBody>>[number];
