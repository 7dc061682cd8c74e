import { createRequire } from 'node:module';
import type WsWebSocket from 'ws';

/**
 * The ws client, loaded with require: imported as an ES module, ws's wrapper and the lexing of its
 * CommonJS files took tens of milliseconds of a flush's start.
 */
const WebSocket = createRequire(import.meta.url)('ws') as typeof WsWebSocket;
type WebSocket = WsWebSocket;
export default WebSocket;
