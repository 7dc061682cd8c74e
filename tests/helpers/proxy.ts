import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface RefusingProxy {
  url: string;
  /** WebSocket upgrades it answered 403, and plain requests it passed on, by path. */
  upgrades: number;
  forwarded: string[];
}

/**
 * A real HTTP proxy on 127.0.0.1 in front of `target` that passes plain requests through and answers
 * every WebSocket upgrade with 403, as corporate proxies do.
 */
export async function refusingProxy(target: string): Promise<RefusingProxy> {
  const upstream = new URL(target);
  const proxy: RefusingProxy = { url: '', upgrades: 0, forwarded: [] };
  const server = createServer((incoming, outgoing) => {
    proxy.forwarded.push(`${incoming.method} ${incoming.url}`);
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  server.on('upgrade', (_request, socket) => {
    proxy.upgrades++;
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return proxy;
}
