import { describe, expect, it } from '@jest/globals';
import { isUuid, normalizeUuid } from './uuid.js';

describe('isUuid', () => {
  it.each([
    '00000000-0000-0000-0000-000000000000',
    '6F9619FF-8B86-D011-B42D-00C04FC964FF',
    'a3bb189e-8bf9-3888-9912-ace4e6543002',
  ])('accepts %s', (value) => expect(isUuid(value)).toBe(true));

  it.each([
    '',
    'not-a-uuid',
    "' OR 1=1 --",
    '6f9619ff8b86d011b42d00c04fc964ff',
    '{6f9619ff-8b86-d011-b42d-00c04fc964ff}',
    '6f9619ff-8b86-d011-b42d-00c04fc964f',
    '6f9619ff-8b86-d011-b42d-00c04fc964ffa',
    '6f9619ff-8b86-d011-b42d-00c04fc964fg',
    ' 6f9619ff-8b86-d011-b42d-00c04fc964ff',
    '6f9619ff-8b86-d011-b42d-00c04fc964ff\n',
    null,
    undefined,
    42,
    {},
  ])('rejects %p', (value) => expect(isUuid(value)).toBe(false));

  it('normalizes to lower case', () => {
    expect(normalizeUuid('6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
  });
});
