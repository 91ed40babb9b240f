import type { Browser } from 'playwright-core';
import { launchBrowser } from '../lib/browser.js';
import { ApiClient } from '../lib/http.js';
import { PageClient, type PageResponse } from '../lib/pages.js';
import { progress } from '../lib/progress.js';
import { percentile, round, summarizeLatencies } from '../lib/stats.js';
import { TARGETS } from '../targets.js';
import type { BenchContext, Figure, Phase } from './context.js';
import { heavyCustomerCounts, millionEventCustomer } from './heavyCustomer.js';
import { measuredWindow } from './phaseWindow.js';

/** Page loads in Chromium, each in a new browser context (cold cache), after one untimed load. */
const BROWSER_LOADS = 5;
/** The longest a page load in Chromium may take before that sample counts as failed. */
const BROWSER_TIMEOUT_MS = 120_000;
const BALANCE = /data-testid="pool-0-balance">([^<]*)</;

interface PageOutcome {
  latenciesMs: number[];
  firstByteMs: number[];
  failures: Record<string, number>;
  /** The untimed first read (JIT, caches), for comparison. */
  firstReadMs: number | null;
  pageBytes: number | null;
  balanceShown: string | null;
}

/** Whether a page is the one expected: a 200 that shows the pool's balance, equal to `getNetBalance`. */
function problemOf(response: PageResponse, netBalance: number): string | undefined {
  if (response.status !== 200) return String(response.status);
  const shown = BALANCE.exec(response.body)?.[1]?.trim();
  if (!shown) return 'no pool balance';
  const amount = Number(/-?[\d,]+(?:\.\d+)?/.exec(shown)?.[0]?.replaceAll(',', ''));
  // The page rounds to 0.01.
  return Math.abs(amount - netBalance) <= 0.005 + 1e-9 ? undefined : 'pool balance differs from getNetBalance';
}

/** One untimed read, then `count` sequential GETs of `path` on the client's one keep-alive connection. */
async function timePage(pages: PageClient, path: string, count: number, netBalance: number): Promise<PageOutcome> {
  const outcome: PageOutcome = { latenciesMs: [], firstByteMs: [], failures: {}, firstReadMs: null, pageBytes: null, balanceShown: null };
  const first = await pages.get(path);
  outcome.firstReadMs = round(first.totalMs);
  for (let i = 0; i < count; i++) {
    const response = await pages.get(path);
    const problem = problemOf(response, netBalance);
    if (problem) {
      outcome.failures[problem] = (outcome.failures[problem] ?? 0) + 1;
      continue;
    }
    outcome.latenciesMs.push(response.totalMs);
    outcome.firstByteMs.push(response.firstByteMs);
    outcome.pageBytes = Buffer.byteLength(response.body);
    outcome.balanceShown = BALANCE.exec(response.body)![1]!.trim();
  }
  return outcome;
}

/** Held to the page target only at its case: a million events or more, over a period about a month old. */
function pageFigure(outcome: PageOutcome, events: number, monthEnd: boolean): Figure {
  const latency = summarizeLatencies(outcome.latenciesMs);
  const failed = Object.values(outcome.failures).reduce((sum, count) => sum + count, 0);
  const measured = outcome.latenciesMs.length > 0;
  return {
    value: measured ? latency.p99_ms : null,
    unit: 'ms (p99)',
    target: TARGETS.dashboardPageP99Ms.text,
    ...(events >= 1_000_000 && monthEnd && { met: failed === 0 && measured && latency.p99_ms <= TARGETS.dashboardPageP99Ms.value }),
    latency,
    time_to_first_byte: summarizeLatencies(outcome.firstByteMs),
    first_read_ms: outcome.firstReadMs,
    failed_reads: failed,
    failures_by_kind: outcome.failures,
    page_bytes: outcome.pageBytes,
    pool_balance_shown: outcome.balanceShown,
    customer_events: events,
  };
}

/** What one page load in Chromium took, from the navigation's start (ms); `chartDrawn` only when it was waited for. */
interface BrowserLoad {
  firstByte: number;
  firstContentfulPaint: number;
  chartDrawn: number | null;
}

/**
 * Before any script of the page: notes the first instant the pool chart exists, checked on every
 * animation frame and right after the DOMContentLoaded listeners (where dashboard.js draws).
 */
const CHART_WATCH = `(() => {
  const check = () => {
    if (window.__chartDrawnAt !== undefined) return true;
    const canvas = document.querySelector('[data-testid="pool-0-chart"]');
    if (canvas && window.Chart && window.Chart.getChart(canvas)) { window.__chartDrawnAt = performance.now(); return true; }
    return false;
  };
  const frame = () => { if (!check()) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
  document.addEventListener('DOMContentLoaded', () => setTimeout(check, 0));
})();`;

const READ_TIMINGS = `(() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint').find((entry) => entry.name === 'first-contentful-paint');
  return { firstByte: navigation ? navigation.responseStart : null, firstContentfulPaint: paint ? paint.startTime : null, chartDrawn: window.__chartDrawnAt ?? null };
})()`;

/** Loads `url` in a new browser context (cold cache), with the session cookie when one is given, and reads its timings. */
async function loadInBrowser(browser: Browser, url: string, { session, chart }: { session?: string; chart: boolean }): Promise<BrowserLoad> {
  const browserContext = await browser.newContext();
  try {
    const { hostname } = new URL(url);
    if (session) await browserContext.addCookies([{ name: 'allot_session', value: session, domain: hostname, path: '/ui', httpOnly: true, sameSite: 'Strict' }]);
    const page = await browserContext.newPage();
    await page.addInitScript(CHART_WATCH);
    const response = await page.goto(url, { waitUntil: 'load', timeout: BROWSER_TIMEOUT_MS });
    if (response?.status() !== 200) throw new Error(`${new URL(url).pathname} answered ${response?.status()} in Chromium`);
    // Functions, not strings: a string predicate is evaluated with eval in the page, which its
    // Content-Security-Policy (script-src 'self') refuses when the predicate has to be polled.
    if (chart) await page.waitForFunction(() => (globalThis as { __chartDrawnAt?: number }).__chartDrawnAt !== undefined, null, { timeout: BROWSER_TIMEOUT_MS });
    // The paint entry may be queued a frame after the load event.
    // (Run in the page: `performance` there is the browser's, whose entry types include `paint`.)
    await page.waitForFunction(() => (performance.getEntriesByType as (type: string) => { name: string }[])('paint').some((entry) => entry.name === 'first-contentful-paint'), null, { timeout: BROWSER_TIMEOUT_MS });
    const timings = (await page.evaluate(READ_TIMINGS)) as { firstByte: number | null; firstContentfulPaint: number | null; chartDrawn: number | null };
    if (timings.firstContentfulPaint === null || timings.firstByte === null || (chart && timings.chartDrawn === null)) throw new Error(`incomplete timings ${JSON.stringify(timings)}`);
    return { firstByte: timings.firstByte, firstContentfulPaint: timings.firstContentfulPaint, chartDrawn: timings.chartDrawn };
  } finally {
    await browserContext.close();
  }
}

/** `BROWSER_LOADS` loads after one untimed one (the browser's own start: its renderer, compilers), and the failures' first lines. */
async function loadsInBrowser(browser: Browser, url: string, options: { session?: string; chart: boolean }) {
  const loads: BrowserLoad[] = [];
  const failures: string[] = [];
  for (let i = 0; i <= BROWSER_LOADS; i++) {
    try {
      const load = await loadInBrowser(browser, url, options);
      if (i > 0) loads.push(load);
    } catch (error) {
      if (i > 0) failures.push((error as Error).message.split('\n')[0]!);
    }
  }
  return { loads, failures };
}

const p50AndMax = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50_ms: round(percentile(sorted, 50)), max_ms: round(sorted[sorted.length - 1] ?? Number.NaN) };
};

/**
 * First paint in headless Chromium: first contentful paint and the pool chart drawn, from the
 * navigation's start; and, for reference, the first paint of the sign-in page (the same styles and
 * scripts, no data): what this browser on this machine takes for any page.
 */
async function firstPaint(context: BenchContext, url: string, session: string, events: number): Promise<void> {
  const launched = await launchBrowser();
  if ('reason' in launched) {
    context.notMeasured.dashboard_first_paint = launched.reason;
    progress(`dashboard: first paint not measured: ${launched.reason}`);
    return;
  }
  const { browser } = launched;
  try {
    progress(`dashboard: ${BROWSER_LOADS} loads of the customer page in headless Chromium ${browser.version()}, then of the sign-in page`);
    const { loads, failures } = await loadsInBrowser(browser, url, { session, chart: true });
    const signIn = await loadsInBrowser(browser, new URL('/ui/sign-in', url).toString(), { chart: false });
    const paint = p50AndMax(loads.map((load) => load.firstContentfulPaint));
    const signInPaint = p50AndMax(signIn.loads.map((load) => load.firstContentfulPaint));
    const chart = p50AndMax(loads.map((load) => load.chartDrawn!));
    const target = TARGETS.dashboardFirstPaintMs;
    context.figures.dashboard_first_paint = {
      value: loads.length ? paint.p50_ms : null,
      unit: 'ms (first contentful paint, p50)',
      target: target.text,
      ...(events >= 1_000_000 && { met: failures.length === 0 && loads.length > 0 && paint.p50_ms <= target.value && chart.p50_ms <= target.chartValue }),
      first_contentful_paint: paint,
      chart_drawn: chart,
      time_to_first_byte: p50AndMax(loads.map((load) => load.firstByte)),
      loads: loads.length,
      failed_loads: failures.length,
      ...(failures.length > 0 && { failures: failures.slice(0, 5) }),
      sign_in_page: {
        first_contentful_paint: signInPaint,
        time_to_first_byte: p50AndMax(signIn.loads.map((load) => load.firstByte)),
        loads: signIn.loads.length,
        failed_loads: signIn.failures.length,
      },
      browser: `headless Chromium ${browser.version()}`,
      cache: 'cold: each load in a new browser context, after one untimed load',
      customer_events: events,
    };
    progress(`dashboard: first contentful paint p50 ${paint.p50_ms} ms, pool chart drawn p50 ${chart.p50_ms} ms (sign-in page: ${signInPaint.p50_ms} ms)`);
  } finally {
    await browser.close();
  }
}

/**
 * The dashboard for the million-event customer (shared with the balance reads, set up by whichever
 * runs first): the operator's customer
 * page and the embeddable credits view, each read `--dashboard-reads` times in a row over HTTP,
 * then the customer page loaded in headless Chromium (first paint, pool chart drawn).
 */
export const dashboard: Phase = {
  name: 'dashboard',
  async run(context) {
    const { options, server } = context;
    const heavy = await millionEventCustomer(context);
    const { customer } = heavy;
    // Its events now: the balance reads' cold reads add one event each to the setup's.
    const { events, rollups } = await heavyCustomerCounts(context, customer.id, heavy.periodStart);
    const monthEnd = heavy.period === 'month-end';
    // `_month_end` when the customer's open period is about a month old (--heavy-period month-end, the default).
    const suffix = monthEnd ? '_month_end' : '';
    const customerFigure = `dashboard_customer_page${suffix}`;
    const embedFigure = `dashboard_embed_page${suffix}`;
    const about = {
      customer_period: heavy.period,
      period_start: heavy.periodStart.toISOString(),
      period_so_far_hours: Number(((Date.now() - heavy.periodStart.getTime()) / 3_600_000).toFixed(1)),
      usage_rollup_rows: rollups,
    };
    const api = new ApiClient(server.baseUrl, server.key, { connections: 1 });
    const pages = new PageClient(server.baseUrl);
    try {
      const netBalance = (await api.json<{ data: { balance: number } }>('POST', '/v1/contracts/customerBalances/getNetBalance', { customer_id: customer.id, credit_type_id: context.tenant.plan.aiCredits })).data.balance;
      const session = await pages.signIn(server.key);
      const customerPath = `/ui/customers/${encodeURIComponent(customer.id)}`;
      progress(`dashboard: ${options.dashboardReads} sequential GETs of the customer page, then of the embeddable credits view (${events} events, ${rollups} rollup rows, ${about.period_so_far_hours} h of period)`);
      const { result: customerPage, cores: customerCores } = await measuredWindow(context, 'dashboard_customer_page', () => timePage(pages, customerPath, options.dashboardReads, netBalance));
      context.figures[customerFigure] = { ...pageFigure(customerPage, events, monthEnd), ...about, net_balance: netBalance, cores_used: customerCores };

      const { url } = (await api.json<{ data: { url: string } }>('POST', '/v1/dashboards/getEmbeddableUrl', { customer_id: customer.id, dashboard: 'credits' })).data;
      const embedUrl = new URL(url);
      const { result: embed, cores: embedCores } = await measuredWindow(context, 'dashboard_embed_page', () => timePage(pages, `${embedUrl.pathname}${embedUrl.search}`, options.dashboardReads, netBalance));
      context.figures[embedFigure] = { ...pageFigure(embed, events, monthEnd), ...about, dashboard: 'credits', net_balance: netBalance, cores_used: embedCores };
      progress(`dashboard: customer page p99 ${context.figures[customerFigure]!.value} ms, embeddable view p99 ${context.figures[embedFigure]!.value} ms`);

      await firstPaint(context, `${server.baseUrl}${customerPath}`, session, events);
      if (context.figures.dashboard_first_paint) Object.assign(context.figures.dashboard_first_paint, about);
    } finally {
      api.close();
      pages.close();
    }
  },
};
