/** The tables the bus writes, each created by one of `eventBusMigrations`. */
export const REQUIRED_TABLES = [
  'event_store',
  'event_handler_deliveries',
  'event_bus_ordered_checkpoints',
  'event_bus_inbox',
  'event_bus_ordered_keys',
  'event_bus_ordered_members',
] as const;

/** Which of the given (possibly schema-qualified) names exist: `to_regclass`, no table scan. `$1`: names. */
export const FIND_TABLES_SQL = 'SELECT name, to_regclass(name)::text AS found FROM unnest($1::text[]) AS name';
