import { describe, expect, it } from 'vitest';
import { deviceName } from '../../client/src/format.js';

describe('deviceName (the sign-in history and the security screen)', () => {
  it('names the browser and the system', () => {
    expect(deviceName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36')).toBe(
      'Chrome on Windows',
    );
    expect(deviceName('Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0')).toBe('Edge on Windows');
    expect(deviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1')).toBe(
      'Safari on iOS',
    );
    expect(deviceName('Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0')).toBe('Firefox on Linux');
  });
  it('calls anything else a program, and says when there is no agent', () => {
    expect(deviceName('node')).toBe('A program');
    expect(deviceName('BankSync/1.0 (Linux x86_64)')).toBe('A program on Linux');
    expect(deviceName(null)).toBe('Unknown device');
  });
});
