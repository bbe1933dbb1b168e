/** Loopback address arithmetic: 127.x.y.z counted upwards, skipping .0 and .255 last octets. */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses a 127.x.y.z address to a 32-bit number; undefined when it is not a usable loopback address. */
export function parseLoopback(address: string): number | undefined {
  const m = IPV4.exec(address);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255) || octets[0] !== 127) return undefined;
  const last = octets[3]!;
  if (last === 0 || last === 255) return undefined;
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | last) >>> 0;
}

/** Formats a 32-bit address. */
export function formatAddress(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * `count` usable loopback addresses, starting with the `skip`-th one after `first` (`first` itself is the 0th).
 * Returns undefined when they would leave 127.0.0.0/8.
 */
export function loopbackAddresses(first: number, count: number, skip = 0): string[] | undefined {
  const out: string[] = [];
  let a = first;
  for (let i = 0; i < skip + count; i++) {
    if (a >>> 24 !== 127) return undefined;
    if (i >= skip) out.push(formatAddress(a));
    a = (a + 1) >>> 0;
    while ((a & 0xff) === 0 || (a & 0xff) === 255) a = (a + 1) >>> 0;
  }
  return out;
}
