import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3, loaded with require: Node 20 imports a CommonJS package into an ES module by
 * lexing its files first, which made every short command (a hook, a flush) start measurably later.
 */
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
type Database = BetterSqlite3.Database;
export default Database;
