/**
 * A short, safe rendering of a configuration value for error messages ("got 0", "got 'abc'").
 * Never prints whole objects: options may carry passwords. A URL's credentials are masked, in
 * case a connection URL was given where another value belongs (`backend: 'redis://:pw@host'`).
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
    case 'string': {
      const text = maskUrlCredentials(value);
      return text.length > 60 ? `'${text.slice(0, 57)}...'` : `'${text}'`;
    }
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return Array.isArray(value) ? 'an array' : 'an object';
  }
}

/** `redis://user:secret@host` → `redis://***@host`, wherever such a part appears in the text. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\/\/[^\s@]*@/g, '//***@');
}
