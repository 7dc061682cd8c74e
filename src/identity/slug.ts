import { basename } from 'node:path';

/** Lower-case kebab-case: `[a-z0-9-]`, no leading, trailing or double `-`. */
export function kebab(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The repository name of a remote URL: https (`https://host/owner/repo.git`), ssh
 * (`git@host:owner/repo.git`, `ssh://git@host/owner/repo`), with a trailing `/` or `.git`.
 */
export function repoNameFromUrl(url: string): string | null {
  const trimmed = url
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
  const match = /[/:]([^/:]+)$/.exec(trimmed);
  return match ? match[1]! : null;
}

export function projectSlug(originUrl: string | undefined, rootDir: string): string {
  const fromOrigin = originUrl ? kebab(repoNameFromUrl(originUrl) ?? '') : '';
  return fromOrigin || kebab(basename(rootDir)) || 'project';
}
