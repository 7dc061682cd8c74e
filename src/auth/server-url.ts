import { ErrorCode, KittyError } from '../errors/index.js';
import { isLoopbackHost } from '../net/loopback.js';

type UrlSource = 'flag' | 'env' | 'config' | 'project' | 'credentials';

/** Validates a server URL: http(s) only, and plain http only on a loopback host. */
export function checkServerUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new KittyError(ErrorCode.USAGE, `not a server URL: "${raw}" (from ${source})`, {
      hint: 'use e.g. https://kitty.example.com or http://127.0.0.1:8787',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KittyError(ErrorCode.USAGE, `the server URL must be http(s), got "${url.protocol}" (from ${source})`, {
      hint: 'use e.g. https://kitty.example.com',
    });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new KittyError(ErrorCode.INSECURE_URL, `plain http to ${url.hostname} would send passwords and tokens unencrypted (from ${source})`, {
      hint: `use https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    });
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * The server URL: `--server`, else KITTY_SERVER_URL, else cosmiconfig settings (module `kitty`:
 * package.json#kitty, .kittyrc(.json|.yaml), kitty.config.(js|mjs|cjs)), else the project's
 * `.kittify/config.yaml` sync.server_url, else the server of the last login.
 */
export async function resolveServerUrl(options: {
  flag?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  projectUrl?: string | null;
  loginUrl?: string | null;
}): Promise<{ url: string; source: UrlSource } | null> {
  if (options.flag) return { url: checkServerUrl(options.flag, '--server'), source: 'flag' };
  if (options.env.KITTY_SERVER_URL) return { url: checkServerUrl(options.env.KITTY_SERVER_URL, 'KITTY_SERVER_URL'), source: 'env' };
  // cosmiconfig is loaded only here: it is too heavy for the hook path
  const { cosmiconfig } = await import('cosmiconfig');
  const found = await cosmiconfig('kitty', { searchStrategy: 'project' }).search(options.cwd);
  const config = found?.config as { serverUrl?: unknown; server_url?: unknown } | undefined;
  const fromConfig = config?.serverUrl ?? config?.server_url;
  if (typeof fromConfig === 'string' && fromConfig) return { url: checkServerUrl(fromConfig, found!.filepath), source: 'config' };
  if (options.projectUrl) return { url: checkServerUrl(options.projectUrl, '.kittify/config.yaml sync.server_url'), source: 'project' };
  if (options.loginUrl) return { url: checkServerUrl(options.loginUrl, 'the last `kitty auth login`'), source: 'credentials' };
  return null;
}
