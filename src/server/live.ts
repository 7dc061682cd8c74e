import type { ServerResponse } from 'node:http';
import { BASE_HEADERS } from './http.js';
import type { Change, Session } from './store/types.js';

/** setTimeout's longest delay; a token living longer is rechecked when its stream reconnects. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Subscriber {
  res: ServerResponse;
  team: string;
  project: string;
  family: string;
}

/**
 * The dashboard's live view: a Server-Sent Events stream per open project page, read with fetch so
 * the access token travels in a header (EventSource cannot set one, and a token never goes in a
 * URL). A message says only "this project changed"; the page fetches what is new. Changes arrive
 * from the store, which hears those of every instance on the same database.
 */
export class LiveFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(heartbeatMs: number) {
    // a comment line now and then keeps proxies and load balancers from closing an idle stream
    this.heartbeat = setInterval(() => this.each(() => true, ': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  subscribe(res: ServerResponse, session: Session, project: string): void {
    res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'text/event-stream', 'x-accel-buffering': 'no' });
    res.write(': live\n\n');
    const subscriber = { res, team: session.teamSlug, project, family: session.family };
    this.subscribers.add(subscriber);
    // the stream ends with the token that opened it: the page reconnects with a refreshed one, so a
    // stream never outlives its authorization (an expired or stolen token keeps nothing open)
    const expiry = session.expiresAt === undefined ? null : setTimeout(() => res.end(), Math.min(MAX_TIMER_MS, Math.max(0, session.expiresAt - Date.now())));
    expiry?.unref();
    res.once('close', () => {
      if (expiry) clearTimeout(expiry);
      this.subscribers.delete(subscriber);
    });
  }

  apply(change: Change): void {
    if (change.kind === 'revoked') {
      for (const subscriber of this.subscribers) if (subscriber.family === change.family) subscriber.res.end();
      return;
    }
    const projects = new Set(change.projects);
    this.each((subscriber) => subscriber.team === change.team && projects.has(subscriber.project), 'event: changed\ndata: {}\n\n');
  }

  closeAll(): void {
    clearInterval(this.heartbeat);
    for (const subscriber of this.subscribers) subscriber.res.destroy();
  }

  private each(matches: (subscriber: Subscriber) => boolean, text: string): void {
    for (const subscriber of this.subscribers) if (matches(subscriber) && !subscriber.res.destroyed) subscriber.res.write(text);
  }
}
