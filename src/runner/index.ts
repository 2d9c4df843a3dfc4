/** The runner: processes, not tasks. Knows nothing of the DB. */
export { type FollowOptions, followFile } from './file-follower.js';
export * from './proc.js';
export * from './supervisor.js';
