/** The isolation level of the current transaction, as PostgreSQL spells it (`read committed`, `repeatable read`, …). */
export const TRANSACTION_ISOLATION_SQL = `SELECT current_setting('transaction_isolation') AS level`;
