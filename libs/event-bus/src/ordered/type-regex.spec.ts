import { describe, expect, it } from '@jest/globals';
import { matchesEventPattern } from '../subscriptions/event-pattern.js';
import { typeRegex, typeSubject } from './type-regex.js';

describe('typeRegex', () => {
  const types = ['workflow', 'workflow.started', 'workflow.node.done', 'order.placed', 'workflow-x.started', 'a.b.c.d'];
  const patterns = ['workflow.*', 'workflow.**', '**', '*', '*.started', 'a.**.d', 'workflow.**.done', 'order.placed'];

  it.each(patterns)('matches exactly what the pattern %s matches', (pattern) => {
    const regex = new RegExp(typeRegex([pattern]));
    for (const type of types) {
      expect([type, regex.test(typeSubject(type))]).toEqual([type, matchesEventPattern(pattern, type)]);
    }
  });

  it('matches a type when any of several patterns does', () => {
    const regex = new RegExp(typeRegex(['order.placed', 'workflow.*']));
    expect(types.filter((type) => regex.test(typeSubject(type)))).toEqual(['workflow.started', 'order.placed']);
  });
});
