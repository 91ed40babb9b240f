/**
 * The partition of the usage log an event goes to: FNV-1a (32 bits) of its tenant and customer
 * reference as sent (a customer id or an ingest alias), modulo the partition count. Every event of
 * one reference lands in one partition, in the order the log acknowledged it.
 */
export function partitionOf(tenantId: string, customerRef: string, partitions: number): number {
  let hash = 0x811c9dc5;
  const key = `${tenantId}\u0000${customerRef}`;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
