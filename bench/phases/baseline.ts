import { checkpoint } from '../environment/database.js';
import { progress } from '../lib/progress.js';
import { RAW_TABLE } from '../load/protocol.js';
import { runLoadInChild } from '../load/runLoad.js';
import type { Phase } from './context.js';
import { loadFigures } from './loadFigures.js';
import { measuredWindow } from './phaseWindow.js';

/**
 * What PostgreSQL alone does with the same events: `INSERT … SELECT * FROM unnest(…) ON CONFLICT
 * DO NOTHING` into a table with the columns of `events` and only its primary key, batches of the
 * same size, as many connections as the HTTP load has, for the same time, from a Node process with
 * `pg` (a prepared statement per connection). Runs first, so both start on empty tables.
 */
export const rawInsertBaseline: Phase = {
  name: 'baseline',
  async run(context) {
    const { options, database } = context;
    for (const statement of RAW_TABLE) await database.pool.query(statement);
    await checkpoint(database.pool);
    progress(`baseline: raw INSERT … unnest, ${options.connections} connections, ${options.durationSeconds} s`);
    const { result, cores } = await measuredWindow(context, 'baseline', () =>
      runLoadInChild(context.loadSpec('raw', { target: 'sql', pacing: 'closed', warmupMs: 2000, durationMs: options.durationSeconds * 1000 })),
    );
    const figures = loadFigures(result);
    progress(`baseline: ${figures.events_per_s} events/s (p50 ${figures.latency.p50_ms} ms, p99 ${figures.latency.p99_ms} ms)`);
    context.figures.raw_insert_baseline = { value: figures.events_per_s, unit: 'events/s', ...figures, cores_used: cores };
  },
};
