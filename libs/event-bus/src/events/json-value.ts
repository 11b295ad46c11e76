import { EventValidationError } from '../shared/errors.js';
import type { EventValidationIssue } from '../shared/errors.js';
import { describeValue, FORBIDDEN_NAMES } from './event-type.js';

/**
 * JSON values of events: checked and serialized in one bounded walk.
 *
 * The walk is iterative with an explicit stack, so a deeply nested value cannot overflow the call
 * stack; nesting is still bounded, because PostgreSQL's jsonb parser recurses and would fail on it
 * later, less clearly.
 */
export const MAX_JSON_DEPTH = 128;

/** Issues reported per value; a payload with a million bad items should not make a million-line error. */
export const MAX_ISSUES_PER_VALUE = 20;

/** A value of the walk; it doubles as the path, built into a string only when there is an issue. */
interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number | undefined;
}

/** An object or array being written: which child comes next. */
interface Open {
  frame: Frame;
  object: object;
  /** Own keys of an object (`Reflect.ownKeys`: no per-key work up front); `undefined` for an array. */
  keys: (string | symbol)[] | undefined;
  length: number;
  next: number;
  written: number;
  symbolReported: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
// jsonb stores text as valid UTF-8: an unpaired surrogate is rejected by PostgreSQL.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface JsonCheckOptions {
  /** Field name of the value's root, e.g. `payload`. */
  field: string;
  /** Largest accepted serialized size in UTF-8 bytes. */
  maxBytes: number;
}

/** Stops the walk: the value is larger than the limit, whatever follows. */
class TooLarge extends Error {}

/**
 * Checks that a value survives a JSON round trip unchanged and can be stored as PostgreSQL
 * `jsonb`, and writes its JSON text in the same walk (the string sent to the database), so each
 * property is read once. The walk stops as soon as the text passes `maxBytes` (or an array or
 * string is too long to fit), so rejecting an oversized value costs work in proportion to the
 * limit, not to the value. A getter or Proxy that throws is an `EventValidationError` naming the
 * field, with the thrown error as its `cause`.
 * @returns the serialized value, or `undefined` when an issue was found
 */
export function serializeJsonValue(
  value: unknown,
  { field, maxBytes }: JsonCheckOptions,
  issues: EventValidationIssue[],
): string | undefined {
  const before = issues.length;
  const report = (frame: Frame, message: string): boolean => {
    issues.push({ field: pathOf(frame, field), message });
    return issues.length - before < MAX_ISSUES_PER_VALUE;
  };
  let json = '';
  let bytes = 0;
  const write = (text: string): void => {
    bytes += Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new TooLarge();
    json += text;
  };
  /** At least this many more bytes will be written: stop now if they cannot fit. */
  const reserve = (atLeast: number): void => {
    if (bytes + atLeast > maxBytes) throw new TooLarge();
  };

  const ancestors = new Set<object>();
  const open: Open[] = [];
  let reading: Frame = { value, depth: 0, parent: undefined, key: undefined };

  /** Writes a scalar, or opens an object or array; false once enough issues were reported. */
  const enter = (frame: Frame): boolean => {
    const current = frame.value;
    if (typeof current === 'string') reserve(current.length + 2);
    const problem = scalarProblem(current);
    if (problem !== undefined) {
      if (problem) return report(frame, problem);
      write(JSON.stringify(current));
      return true;
    }
    const object = current as object;
    if (ancestors.has(object)) return report(frame, 'is a circular reference');
    if (frame.depth >= MAX_JSON_DEPTH) return report(frame, `is nested deeper than ${MAX_JSON_DEPTH} levels`);
    let keys: (string | symbol)[] | undefined;
    let length: number;
    if (Array.isArray(object)) {
      length = object.length;
      // '[', one byte per item at least, a comma between two, ']'.
      reserve(length === 0 ? 2 : 2 * length + 1);
      write('[');
    } else {
      const kindProblem = objectKindProblem(object);
      if (kindProblem) return report(frame, kindProblem);
      keys = Reflect.ownKeys(object);
      length = keys.length;
      write('{');
    }
    ancestors.add(object);
    open.push({ frame, object, keys, length, next: 0, written: 0, symbolReported: false });
    return true;
  };

  try {
    walk: for (let going = enter(reading); going && open.length > 0;) {
      const top = open[open.length - 1];
      if (top.next >= top.length) {
        open.pop();
        ancestors.delete(top.object);
        write(top.keys ? '}' : ']');
        continue;
      }
      const index = top.next++;
      reading = top.frame;
      let child: Frame;
      if (!top.keys) {
        child = { value: undefined, depth: top.frame.depth + 1, parent: top.frame, key: index };
        // A hole serializes as null, so it would not come back unchanged.
        if (!(index in top.object)) {
          if (!report(child, 'is an empty array slot (undefined)')) break walk;
          continue;
        }
        reading = child;
        child.value = (top.object as unknown[])[index];
        if (top.written++ > 0) write(',');
      } else {
        const key = top.keys[index];
        if (!Object.prototype.propertyIsEnumerable.call(top.object, key)) continue;
        if (typeof key === 'symbol') {
          if (!top.symbolReported && !report(top.frame, 'has symbol keys, which JSON drops')) break walk;
          top.symbolReported = true;
          continue;
        }
        child = { value: undefined, depth: top.frame.depth + 1, parent: top.frame, key };
        reserve(key.length + 3);
        const keyProblem =
          textProblem(key, 'key') ?? (FORBIDDEN_NAMES.has(key) ? `key "${key}" is not allowed` : undefined);
        if (keyProblem) {
          if (!report(child, keyProblem)) break walk;
          continue;
        }
        reading = child;
        child.value = (top.object as Record<string, unknown>)[key];
        write(`${top.written++ > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      }
      going = enter(child);
    }
  } catch (error) {
    if (!(error instanceof TooLarge)) throw unreadable(pathOf(reading, field), error);
    issues.push({ field, message: `is more than ${maxBytes} bytes as JSON, the limit (maxPayloadBytes)` });
    return undefined;
  }
  return issues.length > before ? undefined : json;
}

/** A value whose reading threw (a getter, a Proxy trap): rejected, naming where, with the error as cause. */
export function unreadable(field: string, error: unknown): EventValidationError {
  if (error instanceof EventValidationError) return error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
  return new EventValidationError([{ field, message: `could not be read (reading it threw ${reason})` }], {
    cause: error,
  });
}

/** `undefined` for an object or array (walk into it), `''` for a valid scalar, otherwise the problem. */
function scalarProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return textProblem(value, 'string') ?? '';
    case 'number':
      return Number.isFinite(value) ? '' : `is ${String(value)}, which JSON cannot represent`;
    case 'boolean':
      return '';
    case 'object':
      return value === null ? '' : undefined;
    case 'undefined':
      return 'is undefined, which JSON drops';
    case 'bigint':
      return 'is a BigInt, which JSON cannot represent: pass it as a string';
    default:
      return `is ${describeValue(value)}, which is not JSON data`;
  }
}

function textProblem(text: string, what: 'string' | 'key'): string | undefined {
  if (text.includes('\u0000')) return `${what} contains the character \\u0000, which PostgreSQL's jsonb cannot store`;
  if (LONE_SURROGATE.test(text)) return `${what} contains an unpaired UTF-16 surrogate, which is not valid UTF-8`;
  return undefined;
}

/** Plain objects and class instances with data fields pass; anything whose JSON form differs from it does not. */
function objectKindProblem(object: object): string | undefined {
  const tag = Object.prototype.toString.call(object);
  if (tag === '[object Date]') return 'is a Date, which JSON turns into a string: pass date.toISOString()';
  if (tag === '[object Map]') return 'is a Map, which JSON turns into {}: pass an object or an array of entries';
  if (tag === '[object Set]') return 'is a Set, which JSON turns into {}: pass an array';
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    return 'is binary data, which is not JSON: encode it as a string (e.g. base64)';
  }
  if (tag !== '[object Object]') return `is ${describeValue(object)}, which is not JSON data`;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return 'has a toJSON() method, so its JSON form differs from it: pass the value toJSON() returns';
  }
  return undefined;
}

/** `payload.items[2].price`, `payload["a key"]`. */
function pathOf(frame: Frame, root: string): string {
  const parts: string[] = [];
  for (let node: Frame | undefined = frame; node?.parent; node = node.parent) {
    const key = node.key!;
    parts.push(typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  }
  return root + parts.reverse().join('');
}
