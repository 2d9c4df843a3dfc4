import type SqliteDatabase from 'better-sqlite3';

const MAX_STATEMENTS = 500;

/**
 * The database handle Kysely sees: `prepare` reuses compiled statements.
 * Kysely prepares every query afresh, which costs more than running it on
 * the dispatcher's hot path. Safe because Kysely's SQLite driver runs one
 * query at a time and each statement runs to completion synchronously.
 */
export function withStatementCache(db: SqliteDatabase.Database) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteDatabase.Statement {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        // Queries with inline values would grow the cache without bound.
        if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
