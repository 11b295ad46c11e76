import { compileEventPattern } from '../subscriptions/event-pattern.js';

/**
 * The event types a handler's patterns match, as one POSIX regular expression over `'.' || event_type`,
 * so the ordered reader's page and the lag count filter in SQL instead of shipping every event to
 * Node. The rules are the patterns' own (event-pattern.ts): a literal segment matches itself, `*` one
 * non-empty segment, `**` any number of segments, none included. Literal segments hold only letters,
 * digits, `_` and `-`, none of which is special in a regular expression.
 */
export function typeRegex(patterns: readonly string[]): string {
  const alternatives = patterns.map((pattern) => {
    compileEventPattern(pattern); // validates
    return pattern
      .split('.')
      .map((segment) => (segment === '**' ? '(\\.[^.]+)*' : segment === '*' ? '\\.[^.]+' : `\\.${segment}`))
      .join('');
  });
  return `^(${alternatives.join('|')})$`;
}

/** The string a `typeRegex` is matched against. */
export function typeSubject(eventType: string): string {
  return `.${eventType}`;
}
