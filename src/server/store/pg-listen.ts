import pg from 'pg';
import type { Change } from './types.js';

export const CHANNEL = 'kitty_changes';

const RETRY_MAX_MS = 5_000;

function parse(payload: string | undefined): Change | null {
  try {
    const change = JSON.parse(payload ?? '') as Change;
    return change.kind === 'events' || change.kind === 'revoked' ? change : null;
  } catch {
    return null;
  }
}

/**
 * The instance's one connection that LISTENs for what any instance stored or revoked. A pooled
 * connection cannot listen (the pool hands it to queries and may close it), so this one is its own.
 * When it drops (the database restarted), it reconnects with a growing delay; what was notified
 * meanwhile is missed, which costs an open dashboard one refresh, never an event.
 */
export class ChangeListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  private constructor(
    private readonly config: pg.ClientConfig,
    private readonly emit: (change: Change) => void,
    private readonly log: (line: string) => void,
  ) {}

  static async start(config: pg.ClientConfig, emit: (change: Change) => void, log: (line: string) => void): Promise<ChangeListener> {
    const listener = new ChangeListener(config, emit, log);
    await listener.connect();
    return listener;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (message) => {
      const change = parse(message.payload);
      if (change) this.emit(change);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private lost(client: pg.Client, error: Error, delayMs = 250): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    this.log(`database listener lost (${error.message}); reconnecting`);
    client.end().catch(() => undefined);
    this.again(delayMs);
  }

  private again(delayMs: number): void {
    this.retry = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.log(`database listener cannot reconnect yet: ${(error as Error).message}`);
        this.again(Math.min(delayMs * 2, RETRY_MAX_MS));
      });
    }, delayMs);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }
}
