import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors/index.js';

/**
 * Writes via a temp file in the same directory, fsync, rename: readers see the old file or the new
 * one, never half of either. The existing file's mode is kept.
 */
export function writeFileAtomic(path: string, content: string, defaultMode = 0o644): void {
  let mode = defaultMode;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file is already gone
    }
    throw error;
  }
  try {
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // some filesystems cannot fsync a directory; the rename itself has happened
  }
}
