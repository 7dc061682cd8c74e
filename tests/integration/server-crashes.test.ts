import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { envelope, login, openSocket, rawSocket, sendFrame, startHostileServer } from '../helpers/hostile.js';

const UPGRADE = (token: string): string =>
  `GET /ws/v1/events/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`;

describe('hostile clients never stop the server', () => {
  it('upgrades with a bad token whose socket is reset before the 401 is written', async () => {
    const server = await startHostileServer();
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write(UPGRADE('not-a-token'));
          socket.resetAndDestroy();
          resolve();
        });
        socket.on('error', () => resolve());
      });
    }
    expect(await server.alive(), server.stderr()).toBe(true);
    expect(server.stderr()).not.toMatch(/Unhandled|ECONNRESET|EPIPE/);
  });

  it('a logged-in WebSocket sending a 40 MiB frame, then one over 1 MiB: each closes that connection only (1009); 100 events under 1 MiB pass', async () => {
    const server = await startHostileServer();
    const { access } = await login(server.url);
    const bystander = await openSocket(server.url, access);
    const full = Array.from({ length: 100 }, () => envelope({ payload: { ...(envelope().payload as object), title: 't'.repeat(9_500) } }));
    expect(Buffer.byteLength(JSON.stringify({ type: 'events', events: full }))).toBeLessThan(1024 * 1024);
    expect((await sendFrame(bystander, full)).results.map((result: { status: string }) => result.status)).toEqual(Array(100).fill('success'));
    const huge = await openSocket(server.url, access);
    huge.ws.send(Buffer.alloc(40 * 1024 * 1024, 0x61), { binary: false });
    expect([1009, 1006]).toContain(await huge.closed);
    const large = await openSocket(server.url, access);
    large.ws.send(JSON.stringify({ type: 'events', events: [envelope({ pad: 'x'.repeat(1024 * 1024) })] }));
    expect(await large.closed).toBe(1009);
    expect(await server.alive(), server.stderr()).toBe(true);
    const ack = await sendFrame(bystander, [envelope()]);
    expect(ack).toMatchObject({ type: 'ack', results: [{ status: 'success' }] });
  });

  it('a frame of invalid UTF-8 closes that connection (1007); the server and other connections go on', async () => {
    const server = await startHostileServer();
    const { access } = await login(server.url);
    const bystander = await openSocket(server.url, access);
    const hostile = await openSocket(server.url, access);
    hostile.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    expect(await hostile.closed).toBe(1007);
    expect(await server.alive(), server.stderr()).toBe(true);
    expect(await sendFrame(bystander, [envelope()])).toMatchObject({ type: 'ack', results: [{ status: 'success' }] });
  });

  it('a request target no URL parser takes is answered 400, as a plain request and as an upgrade', async () => {
    const server = await startHostileServer();
    for (const extra of ['', 'Upgrade: websocket\r\nConnection: Upgrade\r\n']) {
      const connection = await rawSocket(server.port);
      connection.socket.write(`GET http://[ HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);
      expect(await connection.ended).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(await server.alive(), server.stderr()).toBe(true);
  });
});
