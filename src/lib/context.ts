import type { Clock } from './clock.js';
import type { Database } from './db/database.js';

/** What every service needs from the outside world: the database and the clock. */
export interface ServiceContext {
  db: Database;
  clock: Clock;
}
