import { readToken } from '../agents/registry.js';
import { createRedactor, isSecretName, type Redactor } from '../domain/redact.js';
import { readApiToken } from './api-token.js';
import type { App } from './context.js';

/**
 * Every secret the board knows of: agent tokens and token files, secret-named
 * agent env values, and secret-named variables of our own environment (an
 * agent inherits them, and may print them).
 */
export function knownSecrets(app: App, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const [name, agent] of Object.entries(app.config.agents)) {
    try {
      const t = readToken(name, agent, app.paths.home);
      if (t) out.push(t);
    } catch {
      // An unreadable token file is reported by `validate`; it has nothing to redact.
    }
    for (const [k, v] of Object.entries(agent.env)) if (isSecretName(k)) out.push(v);
  }
  for (const [k, v] of Object.entries(env)) if (v && isSecretName(k)) out.push(v);
  // The owner's API token: an agent of the same user can read the home, and must not echo it.
  const owner = readApiToken(app.paths.home);
  if (owner) out.push(owner);
  return out;
}

/** What a process that does not open the board knows to mask: its environment's secrets. */
export function environmentRedactor(env: NodeJS.ProcessEnv = process.env): Redactor {
  return createRedactor(Object.entries(env).flatMap(([k, v]) => (v && isSecretName(k) ? [v] : [])));
}

export function boardRedactor(app: App, extra: string[] = []): Redactor {
  return createRedactor([...knownSecrets(app), ...extra]);
}
