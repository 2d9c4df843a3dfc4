/**
 * agentboard's version: what the CLI's --version, MCP's handshake, /healthz
 * and /openapi.json say. A constant, so the web bundle and a published
 * package read it without a file; test/server/openapi-contract.test.ts fails
 * when it differs from package.json's (bump both together).
 */
export const VERSION = '0.1.0';
