/**
 * One order for moments of this process that must be compared across modules: a number taken
 * later is greater. The ingest takes one just before its transaction commits, and the account
 * engine one when a usage read has come back, so that the engine can tell a read that certainly
 * came back before a commit (whose snapshot cannot hold it) from one that may hold it.
 */
let last = 0;

export function nextSequence(): number {
  return ++last;
}
