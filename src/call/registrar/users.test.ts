import { describe, expect, it } from 'vitest';
import { UserDirectory } from './users.js';

describe('UserDirectory', () => {
  const dir = new UserDirectory([
    { user: '1001', password: '1001pass', name: 'Agent One' },
    { user: '1002', password: '1002pass' },
  ]);

  it('looks up passwords and lists users without them', () => {
    expect(dir.password('1001')).toBe('1001pass');
    expect(dir.password('9999')).toBeUndefined();
    expect(dir.list()).toEqual([{ user: '1001', name: 'Agent One' }, { user: '1002' }]);
    expect(JSON.stringify(dir.list())).not.toContain('pass');
  });

  it('lets an extension register only its own AOR (RFC 3261 §10.3 step 4)', () => {
    expect(dir.mayRegister('1001', '1001')).toBe(true);
    expect(dir.mayRegister('1001', '1002')).toBe(false);
    expect(dir.mayRegister('9999', '9999')).toBe(false);
  });

  it('refuses duplicate users', () => {
    expect(() => new UserDirectory([{ user: 'a', password: 'x' }, { user: 'a', password: 'y' }])).toThrow(RangeError);
  });
});
