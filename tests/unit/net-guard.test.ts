import { describe, expect, it } from 'vitest';
import { isPrivateAddress, parseWebhookUrl, publicAddresses } from '../../bank/outbox/net-guard.js';

describe('webhook address guard', () => {
  it('knows loopback, private, link-local, shared, reserved and mapped addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '127.255.0.9',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd12:3456::1',
      'fc00::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a00:1',
    ])
      expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(ip), ip).toBe(false);
    expect(isPrivateAddress('not an ip')).toBe(true);
  });

  it('refuses a host when any of its addresses is private, unless allowed', async () => {
    // localhost resolves to 127.0.0.1 (and ::1): every address is checked.
    await expect(publicAddresses('localhost', false)).rejects.toMatchObject({ code: 'invalid_request', details: { fields: ['url'] } });
    expect((await publicAddresses('localhost', true)).length).toBeGreaterThan(0);
    expect(await publicAddresses('[2606:4700::1111]', false)).toEqual([{ address: '2606:4700::1111', family: 6 }]);
    await expect(publicAddresses('no-such-host.invalid', true)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('takes only absolute http(s) URLs without credentials', () => {
    expect(parseWebhookUrl('https://example.com/hook').hostname).toBe('example.com');
    for (const bad of [
      'ftp://example.com/',
      'example.com/hook',
      'https://u:p@example.com/',
      'javascript:alert(1)',
      `https://example.com/${'x'.repeat(2100)}`,
    ]) {
      expect(() => parseWebhookUrl(bad), bad).toThrow();
    }
  });
});
