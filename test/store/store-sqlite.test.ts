import { sqliteBoard } from '../support/board.js';
import { storeContract } from './store-contract.js';

storeContract('sqlite', async () => sqliteBoard());
