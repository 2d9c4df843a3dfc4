import { after, before } from 'node:test';
import { postgresBoard } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { scheduleContract } from './contract.js';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.close();
});

scheduleContract('postgres', async () => postgresBoard(await server.createDatabase()));
