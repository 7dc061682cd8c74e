import { createHash, randomBytes } from 'node:crypto';

/** Tokens are random 256-bit values; only their hash is stored, so a copy of the database opens no session. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: tokenHash(token) };
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newFamily(): string {
  return randomBytes(16).toString('base64url');
}
