import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunResult, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';

async function kitty(args: string[]): Promise<RunResult> {
  const dir = tempDir();
  return runKittyHere(args, dir, testEnv(dir));
}

/** The commands `kitty --help` lists. */
async function listedCommands(): Promise<string[]> {
  const help = (await kitty(['--help'])).stdout;
  const block = help.slice(help.indexOf('Commands:\n') + 'Commands:\n'.length, help.indexOf('\n\n', help.indexOf('Commands:\n')));
  return block.split('\n').map((line) => line.trim().split(/\s{2,}/)[0]!);
}

/** What bash completes for the words typed, the last one being completed. */
function bashComplete(script: string, words: string[]): string[] {
  const file = join(tempDir(), 'kitty.bash');
  writeFileSync(file, script);
  const run = spawnSync(
    'bash',
    ['-c', `source '${file}'; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kitty; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', 'kitty', ...words],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

describe('kitty completion', () => {
  it("bash: commands, sub-commands and each command's flags, from the registry and the help texts", async () => {
    const script = await kitty(['completion', 'bash']);
    expect(script.code, script.stderr).toBe(0);
    const topWords = [...new Set((await listedCommands()).map((name) => name.split(' ')[0]!))];
    expect(topWords).toEqual(expect.arrayContaining(['init', 'events', 'hooks', 'sync', 'wp', 'board', 'doctor', 'completion', 'man']));
    expect(bashComplete(script.stdout, [''])).toEqual(topWords);
    expect(bashComplete(script.stdout, ['sy'])).toEqual(['sync']);
    expect(bashComplete(script.stdout, ['sync', ''])).toEqual(['flush', 'status', 'retry-dead', 'reset-clock', 'verify']);
    expect(bashComplete(script.stdout, ['wp', 'move', '--'])).toEqual(['--feature', '--note', '--message', '--no-commit', '--json', '--help']);
    // a flag's value is not a command word
    expect(bashComplete(script.stdout, ['events', 'list', '--state', 'all', '--all'])).toEqual(['--all-projects']);
  });

  it('zsh and fish name every command with its summary', async () => {
    const zsh = (await kitty(['completion', 'zsh'])).stdout;
    expect(zsh.startsWith('#compdef kitty\n')).toBe(true);
    expect(zsh).toContain(`"sync") subs=('flush:send pending events now, with progress and a summary'`);
    expect(zsh).toContain('compdef _kitty kitty');
    const fish = (await kitty(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c kitty -n '__kitty_at '\\''hooks'\\''' -a 'install' -d 'install the git hooks that capture lane changes'");
    expect(fish).toContain("complete -c kitty -n '__kitty_in '\\''events list'\\''' -l all-projects");
    for (const name of await listedCommands()) expect(fish).toContain(`-a '${name.split(' ').at(-1)}'`);
  });

  it('refuses an unknown shell with the ones it knows', async () => {
    const result = await kitty(['completion', 'tcsh']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'kitty: error KITTY_ERR_USAGE: kitty completion: unknown shell "tcsh"; hint: use one of: bash, zsh, fish, e.g. `kitty completion bash`\n',
    );
    expect((await kitty(['completion', '--help'])).stdout).toContain('Usage: kitty completion bash|zsh|fish');
  });
});

describe('kitty man', () => {
  it('prints kitty(1) in roff with a section per command, made of its help', async () => {
    const man = await kitty(['man']);
    expect(man.code, man.stderr).toBe(0);
    expect(man.stdout).toMatch(/^\.TH KITTY 1 "" "kitty \d+\.\d+\.\d+" "User Commands"\n/);
    for (const name of await listedCommands()) expect(man.stdout).toContain(`.SS "kitty ${name}"\n`);
    expect(man.stdout).toContain((await kitty(['events', 'list', '--help'])).stdout.trimEnd().split('\n')[0]);
    // roff would take a line starting with a dot as a request
    const body = man.stdout.split('\n').filter((line) => line.startsWith('.'));
    expect(body.every((line) => /^\.(TH|SH|SS|PP|nf|fi|TP|B|I|BR)\b/.test(line))).toBe(true);
    // groff reads Latin-1 unless told otherwise: → and … are written as \[u2192] and \[u2026]
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII: the man page must hold nothing else
    expect(man.stdout).toMatch(/^[\x00-\x7f]*$/);
    expect(man.stdout).toContain('"{wp}: {from} \\[u2192] {to}"');
    expect((await kitty(['man', '--help'])).stdout).toContain('kitty man | man -l -');
  });
});
