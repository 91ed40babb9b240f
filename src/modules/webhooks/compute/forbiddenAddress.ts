import { BlockList, isIP } from 'node:net';

/** Why an address may not receive webhooks: the kind of network it belongs to. */
export type ForbiddenKind = 'cloud metadata' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'reserved';

// Checked in this order, so that 169.254.169.254 reads as cloud metadata rather than link-local.
const RANGES: ReadonlyArray<{ kind: ForbiddenKind; ipv4?: readonly string[]; ipv6?: readonly string[] }> = [
  { kind: 'cloud metadata', ipv4: ['169.254.169.254/32', '169.254.170.2/32'], ipv6: ['fd00:ec2::254/128'] },
  { kind: 'unspecified', ipv4: ['0.0.0.0/8'], ipv6: ['::/128'] },
  { kind: 'loopback', ipv4: ['127.0.0.0/8'], ipv6: ['::1/128'] },
  // 100.64/10 is carrier-grade NAT (RFC 6598): private to the provider, and home of some clouds' metadata services.
  { kind: 'private', ipv4: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ipv6: ['fc00::/7'] },
  { kind: 'link-local', ipv4: ['169.254.0.0/16'], ipv6: ['fe80::/10'] },
  {
    kind: 'reserved',
    // IETF protocol assignments, benchmarking, multicast, the old "class E" and broadcast;
    // IPv4-compatible IPv6 (deprecated, ::a.b.c.d), site-local (deprecated) and multicast.
    ipv4: ['192.0.0.0/24', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'],
    ipv6: ['::/96', 'fec0::/10', 'ff00::/8'],
  },
];

const LISTS: ReadonlyArray<{ kind: ForbiddenKind; list: BlockList }> = RANGES.map(({ kind, ipv4 = [], ipv6 = [] }) => {
  const list = new BlockList();
  for (const range of ipv4) addRange(list, range, 'ipv4');
  for (const range of ipv6) addRange(list, range, 'ipv6');
  return { kind, list };
});

function addRange(list: BlockList, range: string, family: 'ipv4' | 'ipv6'): void {
  const [network, prefix] = range.split('/') as [string, string];
  list.addSubnet(network, Number(prefix), family);
}

/** Names that reach the machine itself or a cloud's metadata service whatever DNS says. */
const FORBIDDEN_NAMES: ReadonlyArray<{ kind: ForbiddenKind; matches: (name: string) => boolean }> = [
  { kind: 'cloud metadata', matches: (name) => name === 'metadata.google.internal' || name === 'metadata' },
  // RFC 6761: `localhost` and every name under it are the loopback interface.
  { kind: 'loopback', matches: (name) => name === 'localhost' || name.endsWith('.localhost') },
];

/**
 * The kind of network an IP address belongs to when webhooks may not be sent there, or undefined
 * for a public address. IPv4-mapped IPv6 addresses are judged by their IPv4 address:
 * `127.0.0.1` and `::ffff:127.0.0.1` are both loopback, `10.1.2.3` is private,
 * `169.254.169.254` and `fd00:ec2::254` are cloud metadata, `93.184.215.14` is undefined.
 * Something that is not an IP address is undefined too.
 */
export function forbiddenAddressKind(address: string): ForbiddenKind | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(address, type))?.kind;
}

/**
 * The kind of a URL's host when it is forbidden without asking DNS: a literal address (as the
 * URL parser writes it: `[::1]`, and `2130706433` or `0x7f.1` already turned into `127.0.0.1`)
 * or a reserved name (`localhost`, `metadata.google.internal`, with or without the final dot).
 * Undefined for any other name: only resolving it tells.
 */
export function forbiddenHostKind(hostname: string): ForbiddenKind | undefined {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(host) !== 0) return forbiddenAddressKind(host);
  const name = host.toLowerCase().replace(/\.$/, '');
  return FORBIDDEN_NAMES.find(({ matches }) => matches(name))?.kind;
}

/** Whether a URL's host is a literal IP address (then no lookup happens when connecting). */
export function isAddressLiteral(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(host) !== 0;
}
