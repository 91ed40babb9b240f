import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forbiddenAddressKind, forbiddenHostKind } from './forbiddenAddress.js';

describe('forbiddenAddressKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['::ffff:10.1.2.3', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'cloud metadata'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['ff02::1', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(forbiddenAddressKind(address)).toBe(kind);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '172.15.255.255', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', 'example.com', ''])('%s is not forbidden', (address) => {
    expect(forbiddenAddressKind(address)).toBeUndefined();
  });

  it('judges an IPv4-mapped IPv6 address as its IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(forbiddenAddressKind(`::ffff:${address}`)).toBe(forbiddenAddressKind(address));
      }),
    );
  });
});

describe('forbiddenHostKind', () => {
  it('judges the host as the URL parser writes it, whatever form the address was typed in', () => {
    const hostOf = (url: string) => new URL(url).hostname;
    expect(forbiddenHostKind(hostOf('http://2130706433/'))).toBe('loopback');
    expect(forbiddenHostKind(hostOf('http://0x7f.1/'))).toBe('loopback');
    expect(forbiddenHostKind(hostOf('http://017700000001/'))).toBe('loopback');
    expect(forbiddenHostKind(hostOf('http://[::ffff:127.0.0.1]/'))).toBe('loopback');
    expect(forbiddenHostKind(hostOf('http://[::1]:8080/'))).toBe('loopback');
    expect(forbiddenHostKind(hostOf('http://0xa9fea9fe/'))).toBe('cloud metadata');
    expect(forbiddenHostKind(hostOf('http://[fd00:ec2::254]/'))).toBe('cloud metadata');
  });

  it('refuses reserved names without asking DNS, and leaves other names to it', () => {
    expect(forbiddenHostKind('localhost')).toBe('loopback');
    expect(forbiddenHostKind('LOCALHOST.')).toBe('loopback');
    expect(forbiddenHostKind('api.localhost')).toBe('loopback');
    expect(forbiddenHostKind('metadata.google.internal')).toBe('cloud metadata');
    expect(forbiddenHostKind('metadata.google.internal.')).toBe('cloud metadata');
    expect(forbiddenHostKind('example.com')).toBeUndefined();
    expect(forbiddenHostKind('notlocalhost.example')).toBeUndefined();
  });
});
