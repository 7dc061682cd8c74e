import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';

function username(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** 12 hex chars of sha256(`hostname:username`): the same in every process of this machine and user. */
export function machineNodeId(host: string = hostname(), user: string = username()): string {
  return createHash('sha256').update(`${host}:${user}`).digest('hex').slice(0, 12);
}
