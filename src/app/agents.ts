import { type AgentStatus, checkAgent } from '../agents/validate.js';
import { UsageError } from '../domain/errors.js';
import { type AgentUsage, busyByAgent, usageByAgent } from '../store/runs.js';
import { agentsOfOpenTasks } from '../store/tasks.js';
import type { App } from './context.js';

export interface AgentReport extends AgentStatus {
  /** Referenced by the defaults or by a task that is not finished. */
  inUse: boolean;
  running: number;
  maxConcurrency: number;
  usage: AgentUsage;
}

/**
 * The configured agents, checked: binary, version, credentials, and current
 * load. An agent named in `only` counts as in use (`validate NAME` fails on
 * its problems) unless `namedInUse` is false (a plain lookup).
 */
export async function agentReports(
  app: App,
  only?: string,
  o: { namedInUse?: boolean } = {},
): Promise<AgentReport[]> {
  const names = Object.keys(app.config.agents);
  if (only && !names.includes(only)) {
    throw new UsageError(
      `agent "${only}" is not configured (configured: ${names.join(', ') || 'none'})`,
      {
        field: 'agent',
      },
    );
  }
  const used = new Set(await agentsOfOpenTasks(app.store.db));
  if (app.config.defaults.agent) used.add(app.config.defaults.agent);
  const load = await busyByAgent(app.store.db);
  const usage = await usageByAgent(app.store.db);
  return Promise.all(
    names
      .filter((n) => !only || n === only)
      .map(async (name) => {
        const agent = app.config.agents[name];
        if (!agent) throw new Error(`agent ${name} vanished`);
        const status = await checkAgent(name, agent, {
          env: process.env,
          home: app.paths.home,
          cwd: app.workdir,
        });
        return {
          ...status,
          inUse: (only === name && o.namedInUse !== false) || used.has(name),
          running: load.get(name) ?? 0,
          maxConcurrency: agent.max_concurrency,
          usage: usage.get(name) ?? { runs: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 },
        };
      }),
  );
}
