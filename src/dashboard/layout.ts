import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { AssetUrl } from './assets.js';
import { html, type Html } from './html.js';

export interface PageOptions {
  title: string;
  body: Html;
  /** The operator's header (tenant and sign-out form); absent on the sign-in page and the embeddable view. */
  header?: Html | undefined;
  /** CSS custom properties to set on the page (an embeddable URL's color overrides). */
  colors?: Record<string, string> | undefined;
  /** An event stream the page follows to update itself. */
  live?: string | undefined;
  bodyClass?: string | undefined;
  /** May other sites show the page in a frame (the embeddable view)? */
  embeddable?: boolean | undefined;
}

/**
 * Sends a full page. Scripts and styles come only from this server (`script-src 'self'`); the one
 * inline style block (color overrides) carries the response's nonce. Operator pages refuse to be
 * framed; the embeddable view may be framed by any site.
 */
export function sendPage(reply: FastifyReply, assetUrl: AssetUrl, options: PageOptions, status = 200): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const colors = options.colors && Object.keys(options.colors).length > 0 ? `:root{${Object.entries(options.colors).map(([name, value]) => `${name}:${value};`).join('')}}` : '';
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Allot</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('dashboard.css')}">
${colors ? html`<style nonce="${nonce}">${colors}</style>` : ''}
<script src="${assetUrl('chart.umd.min.js')}" defer></script>
<script src="${assetUrl('dashboard.js')}" defer></script>
</head>
<body class="${options.bodyClass ?? ''}"${options.live ? html` data-live="${options.live}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
${options.header ?? ''}
<main id="main" tabindex="-1">
${options.body}
</main>
</body>
</html>`;
  const frame = options.embeddable ? 'frame-ancestors *' : "frame-ancestors 'none'";
  return reply
    .code(status)
    .header('content-security-policy', `default-src 'none'; script-src 'self'; style-src 'self' 'nonce-${nonce}'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; ${frame}`)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page.value);
}
