import { Invalid } from '../../lib/errors.js';

/** What a report covers: `[from, to)`. */
export interface Window {
  from: Date;
  to: Date;
}

/** A window must end after it starts (a 400 naming `ending_before`). */
export function checkWindow({ from, to }: Window): void {
  if (from >= to) throw new Invalid('ending_before', 'must be after starting_on');
}
