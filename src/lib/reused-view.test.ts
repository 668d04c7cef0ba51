import { describe, expect, it } from 'vitest';
import { ReusedView } from './reused-view.js';

describe('ReusedView', () => {
  it('returns the same view while buffer, offset and length repeat, a new one otherwise', () => {
    const rv = new ReusedView();
    const a = Uint8Array.from([1, 2, 3, 4, 5]);
    const v1 = rv.of(a, 1, 3);
    expect([...v1]).toEqual([2, 3, 4]);
    expect(rv.of(a, 1, 3)).toBe(v1);
    const v2 = rv.of(a, 2, 3);
    expect(v2).not.toBe(v1);
    expect([...v2]).toEqual([3, 4, 5]);
    const v3 = rv.of(a, 2, 2);
    expect([...v3]).toEqual([3, 4]);
    const b = Uint8Array.from([9, 9, 9, 9, 9]);
    expect([...rv.of(b, 2, 2)]).toEqual([9, 9]);
    // A view of another buffer at the same byte offset is still a different buffer.
    const shared = new Uint8Array(10);
    const c = shared.subarray(0, 5);
    const d = shared.subarray(0, 5);
    const vc = rv.of(c, 0, 5);
    expect(rv.of(d, 0, 5)).not.toBe(vc);
  });
});
