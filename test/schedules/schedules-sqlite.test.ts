import { sqliteBoard } from '../support/board.js';
import { scheduleContract } from './contract.js';

scheduleContract('sqlite', async () => sqliteBoard());
