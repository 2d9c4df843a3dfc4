/**
 * Every agent a worker starts carries its worker's id in this variable, so
 * the worker's watchdog finds them all by one scan of /proc, including one
 * spawned at the instant the worker died (engine/watchdog-process.ts).
 */
export const WORKER_MARKER_ENV = 'AGENTBOARD_WORKER_ID';
