// Source addresses for outgoing sockets: parsing of `--source-ips` and round-robin assignment.
// Only loopback addresses are accepted (127.0.0.0/8 and ::1): the load tester never leaves the machine.

function parseV4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (m === null) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return null;
    n = n * 256 + part;
  }
  return n;
}

function formatV4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function isLoopbackV4(n: number): boolean {
  return n >>> 24 === 127;
}

/** Upper bound on the number of addresses a spec may expand to. */
export const MAX_SOURCE_ADDRESSES = 256;

/**
 * Parses a comma-separated list of loopback addresses and ranges: `127.0.0.1-127.0.0.8`,
 * `127.0.0.1-8` (last octet shorthand), `127.0.0.2,127.0.0.5`, `::1`. Throws a RangeError on bad input.
 */
export function parseSourceAddresses(spec: string): string[] {
  const out: string[] = [];
  for (const rawItem of spec.split(',')) {
    const item = rawItem.trim();
    if (item === '') continue;
    if (item === '::1') {
      out.push(item);
      continue;
    }
    const dash = item.indexOf('-');
    if (dash < 0) {
      const n = parseV4(item);
      if (n === null) throw new RangeError(`bad source address "${item}"`);
      if (!isLoopbackV4(n)) throw new RangeError(`source address ${item} is not loopback (127.0.0.0/8)`);
      out.push(formatV4(n));
      continue;
    }
    const left = item.slice(0, dash).trim();
    const right = item.slice(dash + 1).trim();
    const from = parseV4(left);
    if (from === null) throw new RangeError(`bad range start "${left}"`);
    let to = parseV4(right);
    if (to === null && /^\d{1,3}$/.test(right) && Number(right) <= 255) to = (from & 0xffffff00) + Number(right);
    if (to === null) throw new RangeError(`bad range end "${right}"`);
    if (to < from) throw new RangeError(`range ${item} ends before it starts`);
    if (!isLoopbackV4(from) || !isLoopbackV4(to)) throw new RangeError(`range ${item} is not loopback (127.0.0.0/8)`);
    if (to - from + 1 > MAX_SOURCE_ADDRESSES) throw new RangeError(`range ${item} has more than ${MAX_SOURCE_ADDRESSES} addresses`);
    for (let n = from; n <= to; n++) out.push(formatV4(n));
  }
  const unique = [...new Set(out)];
  if (unique.length === 0) throw new RangeError('no source address given');
  if (unique.length > MAX_SOURCE_ADDRESSES) throw new RangeError(`more than ${MAX_SOURCE_ADDRESSES} source addresses`);
  return unique;
}

/** The source address of global client number `index` (round-robin). */
export function sourceAddressFor(addresses: readonly string[], index: number): string | undefined {
  if (addresses.length === 0) return undefined;
  return addresses[index % addresses.length];
}

/** Checks that a target URL points at loopback; returns an error message or null. */
export function checkLoopbackUrl(url: string): string | null {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return `bad URL "${url}"`;
  }
  if (host === 'localhost' || host === '[::1]' || host === '::1') return null;
  const n = parseV4(host);
  if (n !== null && isLoopbackV4(n)) return null;
  return `target ${url} is not a loopback address; gyre-bench only runs against 127.0.0.0/8 or ::1`;
}
