import type { LookupAddress } from 'node:dns';
import {
  addressAllowed,
  checkUrl,
  DestinationRefused,
  guardedLookup,
  resolveAllowed,
  type Resolver,
} from './destination-guard';

const STRICT = { allowPrivate: false };
const OPEN = { allowPrivate: true };

const resolverOf =
  (table: Record<string, string[]>): Resolver =>
  (hostname) => {
    const addresses = table[hostname];
    if (!addresses)
      return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address): LookupAddress => ({
        address,
        family: address.includes(':') ? 6 : 4,
      })),
    );
  };

describe('addressAllowed', () => {
  it.each([
    ['93.184.216.34', true],
    ['8.8.8.8', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:93.184.216.34', true],
    ['127.0.0.1', false],
    ['127.1.2.3', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['::ffff:169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::7f00:1', false],
    ['::a9fe:a9fe', false],
    ['::10.0.0.1', false],
    ['fc00::1', false],
    ['fe80::1', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['not-an-ip', false],
  ])('%s → %p', (address, allowed) => {
    expect(addressAllowed(address, STRICT)).toBe(allowed);
  });

  it('should allow anything with private addresses allowed', () => {
    expect(addressAllowed('127.0.0.1', OPEN)).toBe(true);
  });
});

describe('checkUrl', () => {
  it.each([
    ['https://hooks.example.com/x', true],
    ['https://hooks.example.com:443/x', true],
    ['https://93.184.216.34/x', true],
    ['http://hooks.example.com/x', false],
    ['https://hooks.example.com:8443/x', false],
    ['https://127.0.0.1/x', false],
    ['https://[::1]/x', false],
    ['https://[::ffff:7f00:1]/x', false],
    ['https://[::127.0.0.1]/x', false],
    ['https://0x7f000001/x', false],
    ['https://2130706433/x', false],
    ['https://127.1/x', false],
    ['https://169.254.169.254/latest/meta-data', false],
    ['https://user:pass@hooks.example.com/x', false],
    ['ftp://hooks.example.com/x', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s → allowed %p (strict)', (url, allowed) => {
    if (allowed) expect(checkUrl(url, STRICT)).toBeInstanceOf(URL);
    else expect(() => checkUrl(url, STRICT)).toThrow(DestinationRefused);
  });

  it('should allow http, any port and private literals with private addresses allowed', () => {
    expect(checkUrl('http://127.0.0.1:8080/x', OPEN).port).toBe('8080');
    expect(() => checkUrl('ftp://127.0.0.1/x', OPEN)).toThrow(DestinationRefused);
  });
});

describe('resolveAllowed', () => {
  const resolver = resolverOf({
    'public.test': ['93.184.216.34'],
    'loopback.test': ['127.0.0.1'],
    'mixed.test': ['93.184.216.34', '10.0.0.5'],
    'metadata.test': ['169.254.169.254'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'empty.test': [],
  });

  it('should answer a public name and a public literal', async () => {
    await expect(resolveAllowed('public.test', STRICT, resolver)).resolves.toHaveLength(1);
    await expect(resolveAllowed('93.184.216.34', STRICT, resolver)).resolves.toEqual([
      { address: '93.184.216.34', family: 4 },
    ]);
  });

  it.each([
    'loopback.test',
    'mixed.test',
    'metadata.test',
    'mapped.test',
    'empty.test',
    '127.0.0.1',
  ])('should refuse %s', async (host) => {
    await expect(resolveAllowed(host, STRICT, resolver)).rejects.toThrow(DestinationRefused);
  });

  it('should pass on a resolver failure', async () => {
    await expect(resolveAllowed('nowhere.test', STRICT, resolver)).rejects.toThrow('ENOTFOUND');
  });
});

describe('guardedLookup', () => {
  const resolver = resolverOf({
    'dual.test': ['93.184.216.34', '2606:4700:4700::1111'],
    'rebind.test': ['127.0.0.1'],
  });
  const lookup = guardedLookup(STRICT, resolver);
  const call = (host: string, options: object) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup(host, options, (error: Error | null, address: unknown, family?: number) =>
        resolve({ error, address, family }),
      ),
    );

  it('should answer every allowed address when asked for all (happy eyeballs)', async () => {
    expect(await call('dual.test', { all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ],
      family: undefined,
    });
  });

  it('should answer one address of the family asked for', async () => {
    expect(await call('dual.test', { family: 6 })).toEqual({
      error: null,
      address: '2606:4700:4700::1111',
      family: 6,
    });
  });

  it('should refuse a name that resolves to loopback at connection time', async () => {
    const { error } = await call('rebind.test', { all: true });
    expect(error).toBeInstanceOf(DestinationRefused);
  });
});
