import type { EventValidationIssue } from '../errors.js';
import { describeValue, FORBIDDEN_NAMES } from './event-type.js';

/**
 * Checks that a value survives a JSON round trip unchanged and can be stored as PostgreSQL
 * `jsonb`, then serializes it once (the same string is sent to the database).
 *
 * The walk is iterative with an explicit stack, so a deeply nested value cannot overflow the call
 * stack; nesting is still bounded, because `JSON.stringify` and PostgreSQL's jsonb parser both
 * recurse and would fail on it later, less clearly.
 */
export const MAX_JSON_DEPTH = 128;

/** Issues reported per value; a payload with a million bad items should not make a million-line error. */
export const MAX_ISSUES_PER_VALUE = 20;

/** A node of the walk; it doubles as the path, built into a string only when there is an issue. */
interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | undefined;
  key: string | number | undefined;
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

/**
 * Appends the value's problems to `issues`; returns its JSON text when it has none.
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

  const ancestors = new Set<object>();
  // A `leave` marker (the object itself) pops an object off the ancestor set once its children are done.
  const stack: (Frame | { leave: object })[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  walk: while (stack.length > 0) {
    const frame = stack.pop()!;
    if ('leave' in frame) {
      ancestors.delete(frame.leave);
      continue;
    }
    const current = frame.value;
    const problem = scalarProblem(current);
    if (problem !== undefined) {
      if (problem && !report(frame, problem)) break;
      continue;
    }
    const object = current as object;
    if (ancestors.has(object)) {
      if (!report(frame, 'is a circular reference')) break;
      continue;
    }
    if (frame.depth >= MAX_JSON_DEPTH) {
      if (!report(frame, `is nested deeper than ${MAX_JSON_DEPTH} levels`)) break;
      continue;
    }
    const children: Frame[] = [];
    if (Array.isArray(object)) {
      for (let index = 0; index < object.length; index++) {
        const child: Frame = { value: object[index], depth: frame.depth + 1, parent: frame, key: index };
        // A hole serializes as null, so it would not come back unchanged.
        if (!(index in object)) {
          if (!report(child, 'is an empty array slot (undefined)')) break walk;
        } else children.push(child);
      }
    } else {
      const kindProblem = objectKindProblem(object);
      if (kindProblem) {
        if (!report(frame, kindProblem)) break;
        continue;
      }
      if (
        Object.getOwnPropertySymbols(object).some((symbol) =>
          Object.prototype.propertyIsEnumerable.call(object, symbol),
        )
      ) {
        if (!report(frame, 'has symbol keys, which JSON drops')) break;
      }
      for (const key of Object.keys(object)) {
        const child: Frame = {
          value: (object as Record<string, unknown>)[key],
          depth: frame.depth + 1,
          parent: frame,
          key,
        };
        const keyProblem =
          textProblem(key, 'key') ?? (FORBIDDEN_NAMES.has(key) ? `key "${key}" is not allowed` : undefined);
        if (keyProblem) {
          if (!report(child, keyProblem)) break walk;
        } else children.push(child);
      }
    }
    ancestors.add(object);
    stack.push({ leave: object });
    // Reversed, so issues come out in document order.
    for (let index = children.length - 1; index >= 0; index--) stack.push(children[index]);
  }
  if (issues.length > before) return undefined;

  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    issues.push({ field, message: `is ${bytes} bytes as JSON, more than the limit of ${maxBytes} (maxPayloadBytes)` });
    return undefined;
  }
  return json;
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
