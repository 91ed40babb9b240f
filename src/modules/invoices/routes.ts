import type { Invoice as WireInvoice } from '@metronome/sdk/resources/v1/customers/invoices';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { wireNumber } from '../../lib/money.js';
import { pageQuery } from '../../lib/pagination.js';
import { instant, toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as pricing from '../pricing/service.js';
import * as service from './service.js';

const customerParams = z.strictObject({ customer_id: z.string() });
const invoiceParams = customerParams.extend({ invoice_id: z.string() });
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const listQuery = pageQuery.extend({
  contract_id: z.string().optional(),
  credit_type_id: z.string().optional(),
  status: z.string().optional(),
  starting_on: instant.optional(),
  ending_before: instant.optional(),
  sort: z.enum(['date_asc', 'date_desc']).optional(),
  skip_zero_qty_line_items: flag.optional(),
  type: z.enum(['USAGE', 'USAGE_CONSOLIDATED', 'SCHEDULED']).optional().describe('USAGE: a period; SCHEDULED: a seat increase billed immediately'),
});
const retrieveQuery = z.strictObject({ skip_zero_qty_line_items: flag.optional() });

async function creditTypeNames(request: FastifyRequest, invoices: service.Invoice[]): Promise<Map<string, string>> {
  const ids = new Set(invoices.flatMap((invoice) => [invoice.creditTypeId, ...invoice.lines.map((line) => line.creditTypeId)]));
  const types = await pricing.findCreditTypes(request.context, { tenantId: request.auth.tenantId, creditTypeIds: [...ids] });
  return new Map([...types].map(([id, type]) => [id, type.name]));
}

function toWireInvoice(invoice: service.Invoice, names: Map<string, string>, { skipZeroQuantity }: { skipZeroQuantity: boolean }): WireInvoice {
  const creditType = (id: string) => ({ id, name: names.get(id) ?? id });
  const lines = invoice.lines.filter((line) => !skipZeroQuantity || line.quantity === null || !line.quantity.isZero());
  return {
    id: invoice.id,
    customer_id: invoice.customerId,
    contract_id: invoice.contractId,
    credit_type: creditType(invoice.creditTypeId),
    status: invoice.status,
    type: invoice.type,
    start_timestamp: toRfc3339(invoice.period.startingAt),
    end_timestamp: toRfc3339(invoice.period.endingBefore),
    issued_at: toRfc3339(invoice.issuedAt),
    total: wireNumber(invoice.total),
    line_items: lines.map((line): WireInvoice.LineItem => ({
      type: line.type,
      name: line.name,
      credit_type: creditType(line.creditTypeId),
      total: wireNumber(line.total),
      starting_at: toRfc3339(line.startingAt),
      ending_before: toRfc3339(line.endingBefore),
      ...(line.quantity !== null && { quantity: wireNumber(line.quantity) }),
      ...(line.unitPrice !== null && { unit_price: wireNumber(line.unitPrice) }),
      ...(line.productId !== null && { product_id: line.productId }),
      ...(line.pricingGroupValues !== null && { pricing_group_values: line.pricingGroupValues }),
      ...(line.subscriptionId !== null && { subscription_id: line.subscriptionId }),
      ...(line.applied && {
        applied_commit_or_credit: { id: line.applied.grantId, type: line.applied.kind === 'CREDIT' ? 'CREDIT' : 'PREPAID' },
        commit_id: line.applied.grantId,
        commit_segment_id: line.applied.segmentId,
        commit_type: 'PrepaidCommit',
      }),
    })),
  };
}

/** Invoices, at the Metronome paths: the finalised ones, and the live draft of each contract's open period. */
export function registerInvoiceRoutes(app: App): void {
  const tags = ['invoices'];

  app.get(
    '/v1/customers/:customer_id/invoices',
    { schema: { tags, params: customerParams, querystring: listQuery, response: { 200: z.object({ data: z.array(z.unknown()), next_page: z.string().nullable() }) } } },
    async (request) => {
      const { query } = request;
      if (query.type === 'USAGE_CONSOLIDATED') return { data: [], next_page: null };
      const page = await service.listInvoices(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.params.customer_id,
        query: {
          contractId: query.contract_id,
          creditTypeId: query.credit_type_id,
          status: query.status,
          type: query.type,
          startingOn: query.starting_on,
          endingBefore: query.ending_before,
          sort: query.sort,
          limit: query.limit,
          nextPage: query.next_page,
        },
      });
      const names = await creditTypeNames(request, page.invoices);
      return { data: page.invoices.map((invoice) => toWireInvoice(invoice, names, { skipZeroQuantity: query.skip_zero_qty_line_items ?? false })), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/invoices/void',
    { schema: { tags, body: z.strictObject({ id: z.string().min(1) }), response: { 200: z.object({ data: z.object({ id: z.string() }) }) } } },
    async (request) => ({ data: await service.voidInvoice(request.context, { tenantId: request.auth.tenantId, invoiceId: request.body.id }) }),
  );

  app.get(
    '/v1/customers/:customer_id/invoices/:invoice_id',
    { schema: { tags, params: invoiceParams, querystring: retrieveQuery, response: { 200: z.object({ data: z.unknown() }) } } },
    async (request) => {
      const invoice = await service.getInvoice(request.context, { tenantId: request.auth.tenantId, customerId: request.params.customer_id, invoiceId: request.params.invoice_id });
      const names = await creditTypeNames(request, [invoice]);
      return { data: toWireInvoice(invoice, names, { skipZeroQuantity: request.query.skip_zero_qty_line_items ?? false }) };
    },
  );
}
