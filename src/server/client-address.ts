import type { IncomingMessage } from 'node:http';

/**
 * The address a request came from, for the per-address login backoff. Behind a reverse proxy every
 * connection comes from the proxy; when the peer is one of the `trusted` proxies, the client is the
 * rightmost X-Forwarded-For entry that is not itself a trusted proxy. Each proxy appends the peer it
 * saw, so entries left of that one are whatever the client claimed and are never believed, and a
 * peer that is not a trusted proxy is taken as it is whatever headers it sends.
 */
export function clientAddress(req: IncomingMessage, trusted: ReadonlySet<string>): string {
  const peer = plain(req.socket.remoteAddress ?? '');
  if (!trusted.has(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => plain(hop.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trusted.has(hops[i]!)) return hops[i]!;
  return peer;
}

/** An IPv4 peer of a dual-stack socket is reported as `::ffff:a.b.c.d`: the same client as `a.b.c.d`. */
export function plain(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
