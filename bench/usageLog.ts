/**
 * `npm run bench:log`: only the usage log's figures (the `log` phase of `npm run bench`,
 * bench/phases/usageLog.ts). DATABASE_URL names the PostgreSQL server (default the local one).
 * Prints JSON on stdout, progress on stderr.
 */
import { usageLogBench } from './phases/usageLog.js';

const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
console.log(JSON.stringify(await usageLogBench({ serverUrl, databaseName: 'allot_bench' }), null, 2));
