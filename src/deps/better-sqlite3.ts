import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3, loaded with require: Node 20 imports a CommonJS package into an ES module by
 * lexing its files first, which made every short command (a hook, a flush) start measurably later.
 */
const Base = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

/**
 * On Node >= 24.19, better-sqlite3 12 aborts the process (`Assertion failed: (env) != nullptr` in
 * RemoveEnvironmentCleanupHook) when the garbage collector destroys one of its native objects
 * outside JavaScript, as an idle-time collection does; version 13 fixes it but needs Node 22. So no
 * database or statement made through this module is ever garbage: each stays referenced until the
 * process ends. kitty prepares its statements once per database (a few dozen), never per request
 * or per row, and never iterates a statement (an iterator is such an object too: it reads `all()`
 * in pages instead); `pragma()` goes through the retained `prepare`.
 */
const retained: object[] = [];

class RetainedDatabase extends Base {
  constructor(...args: ConstructorParameters<typeof Base>) {
    super(...args);
    retained.push(this);
    const prepare = this.prepare.bind(this);
    this.prepare = ((source: string) => {
      const statement = prepare(source);
      retained.push(statement);
      return statement;
    }) as typeof this.prepare;
    // better-sqlite3's own pragma() prepares a statement of its own, left for the collector
    this.pragma = ((source: string, options?: { simple?: boolean }) => {
      const statement = this.prepare(`PRAGMA ${source}`);
      if (!statement.reader) {
        statement.run();
        return options?.simple ? undefined : [];
      }
      return options?.simple ? statement.pluck().get() : statement.all();
    }) as typeof this.pragma;
  }
}

const Database = RetainedDatabase as unknown as typeof BetterSqlite3;
type Database = BetterSqlite3.Database;
export default Database;
