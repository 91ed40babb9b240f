import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../../http/types.js';
import { toNumericText } from '../../lib/money.js';
import { instant, toRfc3339 } from '../../lib/time.js';
import * as service from './service.js';

const reportQuery = z.strictObject({
  starting_on: instant,
  ending_before: instant,
  customer_id: z.uuid({ error: 'must be a customer id (a UUID)' }).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

type Row = Record<string, string | boolean | null>;

function ledgerRow(row: service.LedgerReportRow): Row {
  return {
    customer_id: row.customerId,
    contract_id: row.contractId,
    grant_id: row.grantId,
    grant_name: row.grantName,
    seat_id: row.seatId,
    grant_kind: row.kind,
    credit_type_id: row.creditTypeId,
    segment_id: row.segmentId,
    segment_starting_at: toRfc3339(row.segmentStartingAt),
    segment_ending_before: toRfc3339(row.segmentEndingBefore),
    opening_balance: toNumericText(row.opening),
    grants: toNumericText(row.grants),
    seat_adjustments: toNumericText(row.seatAdjustments),
    deductions: toNumericText(row.deductions),
    manual: toNumericText(row.manual),
    rollovers: toNumericText(row.rollovers),
    expirations: toNumericText(row.expirations),
    closing_balance: toNumericText(row.closing),
    adds_up: row.addsUp,
  };
}

function invoiceRow(row: service.InvoiceReportRow): Row {
  return {
    invoice_id: row.invoiceId,
    customer_id: row.customerId,
    contract_id: row.contractId,
    type: row.type,
    status: row.status,
    start_timestamp: toRfc3339(row.startingAt),
    end_timestamp: toRfc3339(row.endingBefore),
    issued_at: toRfc3339(row.issuedAt),
    credit_type_id: row.creditTypeId,
    subscriptions: toNumericText(row.subscriptions),
    usage: toNumericText(row.usage),
    applied: toNumericText(row.applied),
    conversions: toNumericText(row.conversions),
    total: toNumericText(row.total),
    lines_add_up: row.linesAddUp,
    applied_all_units: toNumericText(row.appliedAllUnits),
    ledger_deductions: toNumericText(row.ledgerDeductions),
    ledger_agrees: row.ledgerAgrees,
  };
}

function unbilledRow(row: service.UnbilledUsageRow): Row {
  return {
    customer_id: row.customerId,
    contract_id: row.contractId,
    invoice_id: row.invoiceId,
    start_timestamp: toRfc3339(row.startingAt),
    end_timestamp: toRfc3339(row.endingBefore),
    finalized_at: toRfc3339(row.finalizedAt),
    late_events: String(row.lateEvents),
    first_received_at: toRfc3339(row.firstReceivedAt),
    last_received_at: toRfc3339(row.lastReceivedAt),
  };
}

/** JSON (`data`, and `checks`: how many rows, and how many fail a check) or CSV with a header row. Amounts are exact decimal text. */
function send(reply: FastifyReply, format: 'json' | 'csv', rows: Row[], failing: number) {
  if (format === 'csv') {
    const columns = rows[0] ? Object.keys(rows[0]) : [];
    return reply.type('text/csv; charset=utf-8').send(stringify(rows, { header: true, columns, cast: { boolean: (value) => String(value) } }));
  }
  return reply.send({ data: rows, checks: { rows: rows.length, failing } });
}

/** Reconciliation reports, Allot's own: the ledger per customer and segment, and the invoices, over a window. */
export function registerReportRoutes(app: App): void {
  const tags = ['allot'];
  app.get('/v1/allot/reports/ledger', { schema: { tags, querystring: reportQuery } }, async (request, reply) => {
    const { starting_on, ending_before, customer_id, format } = request.query;
    const rows = await service.ledgerReport(request.context, { tenantId: request.auth.tenantId, window: { from: starting_on, to: ending_before }, customerId: customer_id });
    return send(reply, format, rows.map(ledgerRow), rows.filter((row) => !row.addsUp).length);
  });
  app.get('/v1/allot/reports/invoices', { schema: { tags, querystring: reportQuery } }, async (request, reply) => {
    const { starting_on, ending_before, customer_id, format } = request.query;
    const rows = await service.invoiceReport(request.context, { tenantId: request.auth.tenantId, window: { from: starting_on, to: ending_before }, customerId: customer_id });
    return send(reply, format, rows.map(invoiceRow), rows.filter((row) => !row.linesAddUp || !row.ledgerAgrees).length);
  });
  app.get('/v1/allot/reports/unbilled-usage', { schema: { tags, querystring: reportQuery } }, async (request, reply) => {
    const { starting_on, ending_before, customer_id, format } = request.query;
    const rows = await service.unbilledUsageReport(request.context, { tenantId: request.auth.tenantId, window: { from: starting_on, to: ending_before }, customerId: customer_id });
    // Every row is usage no invoice billed: each one fails.
    return send(reply, format, rows.map(unbilledRow), rows.length);
  });
}
