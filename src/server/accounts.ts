import { HttpError } from './http.js';
import type { Limits } from './limits.js';
import { Backoff, Semaphore } from './ratelimit.js';
import type { Store, User } from './store/types.js';

interface Lifetimes {
  access: number;
  refresh: number;
}

interface TokenResponse {
  access: string;
  refresh: string;
  access_lifetime: number;
  refresh_lifetime: number;
  team_slug: string;
}

const MAX_USERNAME = 256;
const MAX_PASSWORD = 1024;

function field(body: unknown, name: string, max: number): string | null {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;
}

const rateLimited = (waitMs: number, what: string): HttpError =>
  new HttpError(429, 'login_rate_limited', `too many failed logins ${what}; retry in ${Math.ceil(waitMs / 1000)} s`, {
    'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
  });

/**
 * Logins, refreshes and revocations. A login is refused cheaply (429, no hashing) while its user or
 * its address is backing off, so guessing costs the server nothing once it is noticed, and the
 * scrypt checks that do run are few at a time and off the event loop.
 */
export class Accounts {
  private readonly perUser: Backoff;
  private readonly perAddress: Backoff;
  private readonly checks: Semaphore;

  constructor(
    private readonly store: Store,
    private readonly limits: Limits,
    private readonly lifetimes: Lifetimes,
  ) {
    const common = { baseMs: limits.loginBackoffBaseMs, maxMs: limits.loginBackoffMaxMs, forgetMs: limits.loginForgetMs, maxKeys: 100_000 };
    this.perUser = new Backoff({ ...common, free: limits.loginFreeFailuresPerUser });
    this.perAddress = new Backoff({ ...common, free: limits.loginFreeFailuresPerAddress });
    this.checks = new Semaphore(limits.passwordChecks, limits.passwordQueue);
  }

  private tokens(user: User, pair: { access: string; refresh: string }): TokenResponse {
    return { ...pair, access_lifetime: this.lifetimes.access, refresh_lifetime: this.lifetimes.refresh, team_slug: user.teamSlug };
  }

  async login(body: unknown, address: string): Promise<TokenResponse> {
    const username = field(body, 'username', MAX_USERNAME);
    const password = field(body, 'password', MAX_PASSWORD);
    if (!username || !password)
      throw new HttpError(400, 'bad_request', `body must be {"username": "…", "password": "…"} (at most ${MAX_USERNAME} and ${MAX_PASSWORD} characters)`);
    const userKey = `u:${username}`;
    const addressKey = `a:${address}`;
    const addressWait = this.perAddress.begin(addressKey, Date.now());
    if (addressWait > 0) throw rateLimited(addressWait, 'from this address');
    const userWait = this.perUser.begin(userKey, Date.now());
    if (userWait > 0) {
      this.perAddress.end(addressKey, Date.now(), true, false);
      throw rateLimited(userWait, 'for this user');
    }
    let user: User | null = null;
    let checked = false;
    try {
      const outcome = await this.checks.run(async () => ({ user: await this.store.authenticate(username, password) }));
      checked = outcome !== null;
      user = outcome?.user ?? null;
    } finally {
      // only a check that ran and failed counts against the user and the address
      const now = Date.now();
      this.perUser.end(userKey, now, user !== null || !checked, user !== null);
      this.perAddress.end(addressKey, now, user !== null || !checked, false);
    }
    if (!checked) throw new HttpError(503, 'server_busy', 'too many logins are being checked; retry shortly', { 'retry-after': '1' });
    if (!user) throw new HttpError(401, 'login_failed', 'wrong username or password');
    return this.tokens(user, await this.store.openSession(user, this.lifetimes.access, this.lifetimes.refresh));
  }

  async refresh(body: unknown): Promise<TokenResponse> {
    const token = field(body, 'refresh', 512);
    const outcome = token ? await this.store.useRefreshToken(token, this.limits.refreshReuseGraceMs) : { kind: 'invalid' as const };
    if (outcome.kind === 'invalid') throw new HttpError(401, 'refresh_invalid', 'invalid or expired refresh token');
    if (outcome.kind === 'reused') {
      throw new HttpError(
        401,
        'refresh_reused',
        outcome.revoked ? 'this refresh token was already used: the session is revoked, log in again' : 'this refresh token was just used by another request',
      );
    }
    const { session } = outcome;
    return this.tokens(session, {
      access: await this.store.issueToken(session, 'access', this.lifetimes.access, session.family),
      refresh: await this.store.issueToken(session, 'refresh', this.lifetimes.refresh, session.family),
    });
  }

  /** Answers the same whether or not the token was known: revoking is idempotent. The store announces it to the sockets. */
  async revoke(body: unknown): Promise<{ status: 'revoked' }> {
    const token = field(body, 'refresh', 512);
    if (!token) throw new HttpError(400, 'bad_request', 'body must be {"refresh": "…"}');
    await this.store.revokeFamilyOf(token);
    return { status: 'revoked' };
  }
}
