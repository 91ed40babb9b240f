import type { Session } from '../../modules/dashboards/service.js';
import { html, type Html } from '../html.js';

/** The operator's header: where they are, which tenant, and signing out. */
export function operatorHeader(session: Session): Html {
  return html`<header class="top">
<a class="brand" href="/ui/customers">Allot</a>
<nav aria-label="Main"><a href="/ui/customers">Customers</a> <a href="/ui/usage/unmatched">Unknown customers</a> <a href="/ui/pricing">Pricing</a></nav>
<span class="tenant">Tenant ${session.tenantName}</span>
<form method="post" action="/ui/sign-out"><input type="hidden" name="csrf" value="${session.csrfToken}"><button type="submit" class="secondary">Sign out</button></form>
</header>`;
}

/** A form's outcome, shown after its redirect. */
export function flashMessage({ notice, error }: { notice?: string | undefined; error?: string | undefined }): Html {
  return html`${error ? html`<div class="error" role="alert">${error}</div>` : ''}${notice ? html`<div class="notice" role="status">${notice}</div>` : ''}`;
}

export function errorBody(status: number, message: string): Html {
  const title = status === 403 ? 'Access denied' : status === 404 ? 'Not found' : status >= 500 ? 'Something went wrong' : 'Request refused';
  return html`<div class="card"><h1>${title}</h1><p>${message}</p></div>`;
}
