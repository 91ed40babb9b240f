import { z } from 'zod';
import { isUuid } from '../../lib/ids.js';
import { text } from '../../lib/text.js';
import { isKnownEventType, WEBHOOK_EVENT_TYPES } from './compute/eventTypes.js';

/** A list's query: `limit` 1–100 (default 25) and the `next_page` cursor. */
const page = {
  limit: z.coerce.number().int().min(1).max(100).default(25),
  next_page: z.string().optional(),
};

const url = text()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http or https URL, e.g. https://example.com/metronome-webhooks');

const eventType = z.string().refine(isKnownEventType, {
  message: `is not a webhook event type; known types: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
});

export const createEndpointBody = z.strictObject({
  url,
  secret: text()
    .min(16, 'must be at least 16 characters')
    .max(256, 'must be at most 256 characters')
    .optional()
    .describe('Signs every request; 32 random bytes as hex when absent'),
  event_types: z.array(eventType).min(1, 'must name at least one event type; leave it out to receive every type').optional(),
  description: text().max(1000, 'must be at most 1000 characters').optional(),
});

const id = (what: string) => z.string().refine(isUuid, `is not a ${what} id`);

export const endpointParams = z.object({ id: id('webhook endpoint') });
export const deliveryParams = z.object({ id: id('webhook endpoint'), delivery_id: id('webhook delivery') });

export const listEndpointsQuery = z.strictObject({
  ...page,
  include_archived: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false),
});

export const deliveryStatus = z.enum(['pending', 'delivered', 'failed']);

export const listDeliveriesQuery = z.strictObject({ ...page, status: deliveryStatus.optional() });

export const endpoint = z.object({
  id: z.string(),
  url: z.string(),
  secret: z.string(),
  event_types: z.array(z.string()).nullable().describe('null: every event type'),
  description: z.string().nullable(),
  created_at: z.string(),
  archived_at: z.string().nullable(),
});

export const attempt = z.object({
  attempt: z.number().int(),
  started_at: z.string(),
  duration_ms: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
});

export const delivery = z.object({
  id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: deliveryStatus,
  attempt_count: z.number().int(),
  max_attempts: z.number().int(),
  next_attempt_at: z.string().nullable().describe('When a pending delivery is next tried'),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  failure_reason: z.string().nullable().describe('Why a failed delivery failed'),
  body: z.string().describe('The exact JSON text sent and signed'),
  attempts: z.array(attempt),
});
