/**
 * A short, safe rendering of a configuration value for error messages ("got 0", "got 'abc'").
 * Never prints whole objects: options may carry passwords.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'string':
      return value.length > 60 ? `'${value.slice(0, 57)}...'` : `'${value}'`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return Array.isArray(value) ? 'an array' : 'an object';
  }
}
