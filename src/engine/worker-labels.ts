import type { Config } from '../config/schema.js';
import { UsageError } from '../domain/errors.js';

/**
 * The agents a worker may run, with their concurrency limits. Without
 * labels: every configured agent. With labels (`--labels claude,linux`): an
 * agent named among them whose own `labels` (what it needs of a host) are
 * all among them too.
 */
export function claimableAgents(config: Config, labels?: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, agent] of Object.entries(config.agents)) {
    if (labels && !(labels.includes(name) && agent.labels.every((l) => labels.includes(l))))
      continue;
    out[name] = agent.max_concurrency;
  }
  if (labels && Object.keys(out).length === 0) {
    throw new UsageError(
      `no configured agent matches the labels ${labels.join(',')}: name at least one agent of config.yaml (${Object.keys(config.agents).join(', ') || 'none configured'}) and the labels it requires`,
    );
  }
  return out;
}
