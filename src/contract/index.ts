/**
 * The API contract: the words of the board, what each route takes and
 * answers, the events and their payloads, the page routes and the version.
 * It imports nothing of ours (zod only), so the server, the CLI, MCP and the
 * web all read the same one. The web imports the zod-free files
 * (vocabulary, event-types, pages, version) for values, and types from the rest.
 */
export * from './approvals.js';
export * from './event-types.js';
export * from './events.js';
export * from './pages.js';
export * from './requests.js';
export * from './review.js';
export * from './service-views.js';
export * from './version.js';
export * from './views.js';
export * from './vocabulary.js';
