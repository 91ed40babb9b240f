import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../lib/db/database.js';
import { AppError, Conflict, Invalid, Unavailable } from '../lib/errors.js';
import type { App } from './types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads `Content-Encoding: gzip` bodies itself (ingest); every other route answers any encoding with a 415. */
    gzipBody?: boolean;
  }
}

/** The error body of every failed request: a message naming what was wrong, and, for bad input, each offending field. */
export interface ErrorBody {
  message: string;
  errors?: Array<{ field: string; message: string }>;
}

// A missing field reads "is required" rather than zod's "expected string, received undefined".
z.config({
  customError: (issue) => ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined ? 'is required' : undefined),
});

/** What an error answers: its status and body. Only an unexpected error is a 500 (and is logged). */
export function describeError(error: FastifyError, request: FastifyRequest, { bodyLimit }: { bodyLimit: number }): { status: number; body: ErrorBody; retryable?: false } {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.flatMap((issue) => describeIssue(error.validationContext, issue));
    return { status: 400, body: { message: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors } };
  }
  if (error instanceof Invalid) {
    return { status: 400, body: { message: error.message, errors: [...error.problems] } };
  }
  if (error instanceof AppError) {
    return { status: error.status, body: { message: error.message }, ...(error instanceof Conflict && !error.retryable && { retryable: false as const }) };
  }
  const sqlState = (error as { code?: unknown }).code;
  if (sqlState === '40P01' || sqlState === '40001') {
    // A deadlock or serialization failure: the transaction was rolled back whole; a retry may succeed.
    return { status: 409, body: { message: 'The request collided with a concurrent change and was not applied; retry it' } };
  }
  if (isDatabaseUnavailable(error)) {
    request.log.error({ err: error }, 'database unavailable');
    return { status: 503, body: { message: 'The database is unavailable; the request was not applied. Retry it shortly' } };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { message: 'Send the body as JSON, with the header Content-Type: application/json' } };
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { message: `Request body is larger than the limit of ${bodyLimit} bytes` } };
  }
  // Fastify's own client errors (malformed JSON, unsupported content type, …) carry their status.
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, body: { message: error.message } };
  }
  request.log.error({ err: error }, 'request failed');
  return { status: 500, body: { message: 'Internal server error' } };
}

/** Maps every error to a JSON response in one place (`describeError`). */
export function registerErrorHandling(app: App, { bodyLimit }: { bodyLimit: number }): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryable } = describeError(error, request, { bodyLimit });
    if (retryable === false) reply.header('x-should-retry', 'false');
    if (error instanceof Unavailable) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.code(status).send(body);
  });

  app.addHook('onRequest', async (request, reply) => {
    const encoding = request.headers['content-encoding']?.toLowerCase();
    if (encoding && encoding !== 'identity' && !(encoding === 'gzip' && request.routeOptions.config.gzipBody)) {
      const supported = request.routeOptions.config.gzipBody ? 'send the body uncompressed or gzipped' : 'send the body uncompressed';
      return reply.code(415).send({ message: `Content-Encoding ${request.headers['content-encoding']} is not supported: ${supported}` } satisfies ErrorBody);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0]}` } satisfies ErrorBody);
  });
}

interface Issue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `body` issue at `/ingest_aliases/1` → field `ingest_aliases.1`; unknown keys are named one by one. */
function describeIssue(context: string | undefined, issue: Issue): Array<{ field: string; message: string }> {
  const path = issue.instancePath.split('/').filter(Boolean).join('.');
  if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params.keys)) {
    return issue.params.keys.map((key) => ({
      field: path ? `${path}.${String(key)}` : String(key),
      message: 'is not a field Allot supports',
    }));
  }
  return [{ field: path || context || 'body', message: issue.message ?? 'is invalid' }];
}

/**
 * Errors the router raises before any route runs, in the same JSON shape as the rest (the
 * default would echo the whole offending path back).
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply.code(414).send({ message: 'A path segment is too long (at most 100 characters)' } satisfies ErrorBody);
    return;
  }
  reply.code(400).send({ message: error.code === 'FST_ERR_BAD_URL' ? 'The URL is malformed' : error.message } satisfies ErrorBody);
}
