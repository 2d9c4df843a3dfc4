import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * What a run's verdict rests on: the CLI version that ran, the tool uses its
 * permission rules denied, the output lines nobody could parse, the parser's
 * state beside its offset (so re-adoption never repeats an event), and the
 * session's running totals at the run's end (so a resumed run's usage is its own).
 */
export const runTruth: Migration = {
  version: 5,
  async up(db: Kysely<unknown>) {
    const add = (column: string, type: 'text' | 'integer', notNullZero = false) =>
      db.schema
        .alterTable('runs')
        .addColumn(column, type, (c) => (notNullZero ? c.notNull().defaultTo(0) : c))
        .execute();
    await add('cli_version', 'text');
    await add('denials', 'integer', true);
    await add('unparsed_lines', 'integer', true);
    await add('parser_state', 'text');
    await add('session_totals', 'text');
  },
};
