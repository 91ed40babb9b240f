import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../http/types.js';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const require = createRequire(import.meta.url);

/** Files the pages load, served from this process (no CDN: the dashboard works offline). */
const FILES: Record<string, { path: string; type: string }> = {
  'dashboard.css': { path: fileURLToPath(new URL('./assets/dashboard.css', import.meta.url)), type: 'text/css; charset=utf-8' },
  'dashboard.js': { path: fileURLToPath(new URL('./assets/dashboard.js', import.meta.url)), type: 'text/javascript; charset=utf-8' },
  // Chart.js's browser build, beside the module its npm package exports.
  'chart.umd.min.js': { path: join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

function load(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(FILES)) {
    const body = readFileSync(file.path);
    assets.set(name, { body, type: file.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}

/** The URL of an asset, with its content hash so a new version is never served from a stale cache. */
export type AssetUrl = (name: keyof typeof FILES) => string;

/** Serves the dashboard's assets at `/ui/assets/<name>`, read once at start. */
export function registerAssets(app: App): AssetUrl {
  const assets = load();
  app.get('/ui/assets/:name', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    const asset = assets.get((request.params as { name: string }).name);
    if (!asset) return reply.code(404).type('text/plain').send('Not found');
    reply.header('etag', asset.etag).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  });
  return (name) => `/ui/assets/${name}?v=${assets.get(name)!.etag.slice(1, 9)}`;
}
