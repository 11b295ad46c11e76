import { storedEventColumns } from './stored-event.mapper.js';

/** The unfinished ones among some events, whole (recovery re-enqueues them). `$1`: event ids. */
export const UNFINISHED_EVENTS_SQL = `
  SELECT ${storedEventColumns()} FROM event_store
  WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')
  ORDER BY sequence_number`;

/** Which of the given events are unfinished. `$1`: event ids. */
export const UNFINISHED_AMONG_SQL = `
  SELECT id FROM event_store WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')`;
