import { existsSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKitty, tempDir, testEnv } from '../helpers/gitdir.js';

describe("Node's compile cache", () => {
  const available = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

  it(`is ${available ? 'kept under KITTY_HOME' : 'left alone by this Node, which has none'} (node ${process.versions.node})`, () => {
    const home = tempDir();
    const result = runKitty(['board', '--help'], home, testEnv(home, { NODE_DISABLE_COMPILE_CACHE: undefined }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(existsSync(join(home, 'compile-cache'))).toBe(available);
  });
});
