import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkServerUrl } from '../../src/auth/server-url.js';
import { backoffMs } from '../../src/flusher/drain.js';
import { parseRequest } from '../../src/hooks/requests.js';
import { shQuote } from '../../src/hooks/stub.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(64);

describe('checkServerUrl', () => {
  it('keeps the origin and path, without trailing slashes', () => {
    expect(checkServerUrl('https://kitty.example.com/', 'x')).toBe('https://kitty.example.com');
    expect(checkServerUrl('https://kitty.example.com/team//?q=1#f', 'x')).toBe('https://kitty.example.com/team');
    expect(checkServerUrl('HTTPS://Kitty.Example.com:443/', 'x')).toBe('https://kitty.example.com');
  });

  it('allows plain http only to a loopback host', () => {
    expect(checkServerUrl('http://127.0.0.1:8787', 'x')).toBe('http://127.0.0.1:8787');
    expect(checkServerUrl('http://localhost:8787/', 'x')).toBe('http://localhost:8787');
    expect(checkServerUrl('http://[::1]:8787', 'x')).toBe('http://[::1]:8787');
    expect(() => checkServerUrl('http://kitty.example.com/a/', 'KITTY_SERVER_URL')).toThrow(
      expect.objectContaining({
        code: 'KITTY_ERR_INSECURE_URL',
        message: expect.stringContaining('(from KITTY_SERVER_URL)'),
        hint: 'use https://kitty.example.com/a/',
      }),
    );
  });

  it('refuses what is not an http(s) URL as a usage error naming its source', () => {
    expect(() => checkServerUrl('kitty.example.com', '--server')).toThrow(
      expect.objectContaining({ code: 'KITTY_ERR_USAGE', exitCode: 2, message: 'not a server URL: "kitty.example.com" (from --server)' }),
    );
    expect(() => checkServerUrl('ftp://kitty.example.com', '--server')).toThrow(
      expect.objectContaining({ code: 'KITTY_ERR_USAGE', message: expect.stringContaining('got "ftp:"') }),
    );
  });
});

describe('backoffMs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('doubles from 0.5 s per failure up to 30 s, at the top of its jitter', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 50].map(backoffMs)).toEqual([500, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters over the whole interval down to zero', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(7)).toBe(0);
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    expect(backoffMs(3)).toBe(500);
  });
});

describe('parseRequest', () => {
  it('reads what the stub writes, sections included', () => {
    const text = [
      'hook post-rewrite rebase',
      'future-field ignored',
      'gitdir /r/.git/worktrees/w',
      'ref refs/heads/main',
      `head ${A}`,
      'rewritten',
      `${A} ${B}`,
      `${B} ${C} extra`,
      `${A} not-a-sha`,
      'squash',
      `commit ${C}`,
      'Author: Ada',
      `commit ${B}x`,
      'end',
      '',
    ].join('\n');
    expect(parseRequest(text, '/q/1')).toEqual({
      path: '/q/1',
      hook: 'post-rewrite',
      args: ['rebase'],
      gitDir: '/r/.git/worktrees/w',
      head: A,
      ref: 'refs/heads/main',
      rewritten: [
        { from: A, to: B },
        { from: B, to: C },
      ],
      squashed: [C],
    });
  });

  it('keeps the fields it can trust: no head that is not a sha, no empty values', () => {
    expect(parseRequest('hook post-commit\ngitdir\nref\nhead HEAD\nend\n', '/q/2')).toEqual({
      path: '/q/2',
      hook: 'post-commit',
      args: [],
      gitDir: null,
      head: null,
      ref: null,
      rewritten: [],
      squashed: [],
    });
    expect(parseRequest('hook post-merge  1  \nend', '/q/3')).toMatchObject({ args: ['1'] });
  });

  it('tells a request still being written from one that is not a request', () => {
    expect(parseRequest('', '/q/4')).toBe('partial');
    expect(parseRequest(`hook post-commit\nhead ${A}\n`, '/q/5')).toBe('partial');
    expect(parseRequest('hook post-commit\nrewritten\n', '/q/6')).toBe('partial');
    expect(parseRequest('not a request\nend\n', '/q/7')).toBeNull();
    expect(parseRequest('\nhook post-commit\nend\n', '/q/8')).toBeNull();
  });
});

describe('shQuote', () => {
  it('quotes for POSIX sh so the shell hands back the value unchanged', () => {
    const values = ['/usr/bin/node', "/Users/O'Brien/kitty", 'a b\tc', '$HOME `id` $(id) "x" \\n', "''", '', 'ü/日本'];
    for (const value of values) {
      expect(shQuote(value).startsWith("'")).toBe(true);
      expect(execFileSync('sh', ['-c', `printf '%s' ${shQuote(value)}`], { encoding: 'utf8' })).toBe(value);
    }
    expect(shQuote("it's")).toBe("'it'\\''s'");
  });
});
