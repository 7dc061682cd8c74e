import { takeCoverage } from 'node:v8';
import { afterAll } from 'vitest';

// Vitest ends its worker processes with a signal, so V8 never writes their NODE_V8_COVERAGE report
// on exit: write it after each test file instead (takeCoverage also resets the counters, so nothing
// is counted twice).
afterAll(() => takeCoverage());
