import { describe, expect, it } from 'vitest';
import { sipUriEquals } from './uri-compare.js';

describe('sipUriEquals (RFC 3261 §19.1.4)', () => {
  // The equal and unequal examples from §19.1.4 itself, plus a few of ours.
  it.each([
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['<sip:a@[2001:DB8::1]:5060>', 'sip:a@[2001:db8::1]:5060'],
    ['/dir/index.html', '/dir/index.html'],
  ])('%s == %s', (a, b) => {
    expect(sipUriEquals(a, b)).toBe(true);
    expect(sipUriEquals(b, a)).toBe(true);
  });

  it.each([
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:a@h', 'sips:a@h'],
  ])('%s != %s', (a, b) => {
    expect(sipUriEquals(a, b)).toBe(false);
    expect(sipUriEquals(b, a)).toBe(false);
  });
});
