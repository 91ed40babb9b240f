import { z } from 'zod';
import { toRfc3339 } from '../../lib/time.js';
import type { App } from '../../http/types.js';
import * as schemas from './schemas.js';
import * as service from './service.js';

function toCustomer(row: service.Customer): z.infer<typeof schemas.customer> {
  return {
    id: row.id,
    // Metronome's external_id is the first id events may use: the first ingest alias, else the id.
    external_id: row.ingest_aliases[0] ?? row.id,
    ingest_aliases: row.ingest_aliases,
    name: row.name,
    custom_fields: row.custom_fields,
  };
}

function toCustomerDetail(row: service.Customer): z.infer<typeof schemas.customerDetail> {
  return {
    ...toCustomer(row),
    created_at: toRfc3339(row.created_at),
    updated_at: toRfc3339(row.updated_at),
    archived_at: row.archived_at && toRfc3339(row.archived_at),
    customer_config: { salesforce_account_id: null, leave_stripe_invoices_in_draft: row.leave_stripe_invoices_in_draft },
  };
}

/** Customers, at the Metronome paths (`v1.customers.*` in the SDK). */
export function registerCustomerRoutes(app: App): void {
  const tags = ['customers'];

  app.post(
    '/v1/customers',
    { schema: { tags, body: schemas.createCustomerBody, response: { 200: z.object({ data: schemas.customer }) } } },
    async (request) => {
      const created = await service.createCustomer(request.context, { tenantId: request.auth.tenantId, customer: request.body });
      return { data: toCustomer(created) };
    },
  );

  app.get(
    '/v1/customers/:customer_id',
    { schema: { tags, params: schemas.customerIdParams, response: { 200: z.object({ data: schemas.customerDetail }) } } },
    async (request) => {
      const found = await service.getCustomer(request.context, { tenantId: request.auth.tenantId, customerId: request.params.customer_id });
      return { data: toCustomerDetail(found) };
    },
  );

  app.get(
    '/v1/customers',
    {
      schema: {
        tags,
        querystring: schemas.listCustomersQuery,
        response: { 200: z.object({ data: z.array(schemas.customerDetail), next_page: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { limit, next_page, only_archived, ingest_alias, customer_ids } = request.query;
      const page = await service.listCustomers(request.context, {
        tenantId: request.auth.tenantId,
        query: { limit, nextPage: next_page, onlyArchived: only_archived, ingestAlias: ingest_alias, customerIds: customer_ids },
      });
      return { data: page.customers.map(toCustomerDetail), next_page: page.nextPage };
    },
  );

  app.post(
    '/v1/customers/archive',
    { schema: { tags, body: schemas.archiveCustomerBody, response: { 200: z.object({ data: z.object({ id: z.string() }) }) } } },
    async (request) => {
      await service.archiveCustomer(request.context, { tenantId: request.auth.tenantId, customerId: request.body.id });
      return { data: { id: request.body.id } };
    },
  );

  app.post(
    '/v1/customers/:customer_id/setIngestAliases',
    { schema: { tags, params: schemas.customerIdParams, body: schemas.setIngestAliasesBody } },
    async (request, reply) => {
      await service.setIngestAliases(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.params.customer_id,
        aliases: request.body.ingest_aliases,
      });
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/customers/:customer_id/updateConfig',
    { schema: { tags, params: schemas.customerIdParams, body: schemas.updateConfigBody } },
    async (request, reply) => {
      await service.updateConfig(request.context, { tenantId: request.auth.tenantId, customerId: request.params.customer_id, config: request.body });
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/customers/:customer_id/setName',
    { schema: { tags, params: schemas.customerIdParams, body: schemas.setNameBody, response: { 200: z.object({ data: schemas.customer }) } } },
    async (request) => {
      const renamed = await service.setName(request.context, {
        tenantId: request.auth.tenantId,
        customerId: request.params.customer_id,
        name: request.body.name,
      });
      return { data: toCustomer(renamed) };
    },
  );
}
