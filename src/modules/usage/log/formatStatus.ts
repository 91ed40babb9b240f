import type { PartitionStatus } from './status.js';

/** `allot status`: one line per partition. */
export function formatStatus(rows: readonly PartitionStatus[]): string {
  const header = ['partition', 'owner', 'last seq', 'folded seq', 'lag', 'redelivered', 'refused'];
  const lines = rows.map((row) => [String(row.partition), row.owner ?? '(none)', String(row.lastSeq), String(row.foldedSeq), row.lag === null ? '-' : String(row.lag), String(row.redelivered), String(row.refused)]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const owners = new Set(rows.map((row) => row.owner).filter((owner) => owner !== null));
  const lag = rows.reduce((sum, row) => sum + (row.lag ?? 0), 0);
  const refused = rows.reduce((sum, row) => sum + row.refused, 0);
  const kept = refused > 0 ? `; ${refused} calls refused when folded, kept in usage_log_refusals` : '';
  return [format(header), ...lines.map(format), '', `${rows.length} partitions, ${owners.size} writers, ${lag} messages not yet folded${kept}`].join('\n');
}
