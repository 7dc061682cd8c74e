import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing lines CI reads: each failed test with its first error line, then
 * "N passed, N failed" (", N skipped"). They come last, so the tail of a CI log names what failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed')
          failures.push(`${relative(process.cwd(), module.moduleId)} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message)}`);
        else skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0)
        failures.push(`${relative(process.cwd(), module.moduleId)}: ${firstLine(module.errors()[0]?.message)}`);
    }
    const failed = failures.map((line) => `FAILED ${line}\n`).join('');
    process.stdout.write(`\n${failed}Tests: ${passed} passed, ${failures.length} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}

function firstLine(message: string | undefined): string {
  return (message ?? 'no error message').split('\n')[0]!.slice(0, 300);
}
