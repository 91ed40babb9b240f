import type { BenchDatabase } from '../environment/database.js';
import type { BenchServer } from '../environment/server.js';
import type { BenchTenant } from '../environment/tenant.js';
import type { EventSpace } from '../load/events.js';
import type { LoadSpec } from '../load/protocol.js';
import type { BenchOptions } from '../options.js';

/** One measured figure: its value, and the the targets (docs/rules.md) target it is held to (when there is one). */
export interface Figure {
  value: number | null;
  unit: string;
  target?: string;
  met?: boolean;
  [detail: string]: unknown;
}

/** Everything a phase may use; `figures` holds what earlier phases measured (the latency phase reads the peak). */
export interface BenchContext {
  options: BenchOptions;
  database: BenchDatabase;
  server: BenchServer;
  tenant: BenchTenant;
  tenantId: string;
  runId: string;
  figures: Record<string, Figure>;
  /** Figures a phase could not measure on this machine, with the reason (the report's `not_measured`). */
  notMeasured: Record<string, string>;
  diagnostics: Record<string, unknown>;
  /** The event space for a load process; `label` keeps transaction ids unique across phases. */
  eventSpace(label: string): EventSpace;
  /** A load spec with the run's common fields filled in. */
  loadSpec(label: string, fields: Pick<LoadSpec, 'target' | 'pacing'> & Partial<LoadSpec>): LoadSpec;
}

/**
 * A step of the benchmark. Phases run in order; one that fails is reported with its error and
 * the next one runs. A phase adds its figures to `context.figures` under its own names.
 */
export interface Phase {
  name: string;
  run(context: BenchContext): Promise<void>;
}
