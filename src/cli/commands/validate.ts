import type { Command } from 'commander';
import { PROBE_TIMEOUT_MS, type ProbeResult, probeAgents } from '../../agents/probe.js';
import { type AgentReport, agentReports } from '../../app/agents.js';
import { parseDuration } from '../../domain/duration.js';
import { UsageError } from '../../domain/errors.js';
import { paint, printJson, println, useColor } from '../output.js';
import { withApp } from '../with-app.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check each configured agent: binary, version, credentials (exit 1 if an agent in use cannot run); --probe also sends each one minimal request',
    )
    .argument('[agents...]', 'check only these agents')
    .option('--agent <name>', 'check only this agent')
    .option(
      '--probe',
      'send one minimal request through each agent and report ok / rejected / expired / unreachable / error (exit 1 unless all are ok)',
    )
    .option('--timeout <duration>', 'how long a probe may take (with --probe)', '60s')
    .option('--json', 'print JSON')
    .action(async (positional: string[], f) => {
      const names = [...new Set([...positional, ...(f.agent ? [f.agent as string] : [])])];
      const timeoutMs = f.timeout ? parseDuration(f.timeout as string) : PROBE_TIMEOUT_MS;
      if (timeoutMs <= 0) throw new UsageError('--timeout must be more than 0');
      const { reports, probes } = await withApp(async (app) => {
        const reports: AgentReport[] =
          names.length === 0
            ? await agentReports(app)
            : (await Promise.all(names.map((n) => agentReports(app, n)))).flat();
        let probes: ProbeResult[] | null = null;
        if (f.probe) {
          probes = await probeAgents(
            reports.map((r) => {
              const agent = app.config.agents[r.name];
              if (!agent) throw new Error(`agent ${r.name} vanished`);
              return [r.name, agent];
            }),
            { env: process.env, home: app.paths.home, cwd: app.workdir, timeoutMs },
          );
        }
        return { reports, probes };
      });
      const failing = reports.filter((r) => r.inUse && !r.canRun);
      if (failing.length > 0) process.exitCode = 1;
      if (probes?.some((p) => p.status !== 'ok')) process.exitCode = 1;
      if (f.json) {
        return printJson(
          probes
            ? reports.map((r) => ({ ...r, probe: probes.find((p) => p.name === r.name) ?? null }))
            : reports,
        );
      }
      const c = paint(useColor());
      if (reports.length === 0) {
        println(
          'no agents configured: add one under agents in config.yaml (see `agentboard init`)',
        );
        return;
      }
      println(
        c(
          'bold',
          `AGENT        KIND      BINARY                          VERSION     CREDENTIALS          RUNNING  RUNS   COST      STATUS${probes ? '         PROBE' : ''}`,
        ),
      );
      for (const r of reports) {
        const status = r.canRun
          ? r.warnings.length > 0
            ? c('yellow', 'ok (warnings)')
            : c('green', 'ok')
          : c('red', r.inUse ? 'CANNOT RUN' : 'cannot run (unused)');
        const statusWidth = r.canRun ? (r.warnings.length > 0 ? 13 : 2) : r.inUse ? 10 : 19;
        const version = r.version
          ? `${r.version}${r.versionStatus === 'older' || r.versionStatus === 'newer' ? '!' : ''}`
          : '-';
        const probe = probes?.find((p) => p.name === r.name);
        println(
          [
            r.name.padEnd(12),
            r.kind.padEnd(9),
            (r.path ?? `${r.command} (not found)`).slice(0, 31).padEnd(31),
            version.padEnd(11),
            r.credentials.source.slice(0, 20).padEnd(20),
            `${r.running}/${r.maxConcurrency}`.padEnd(8),
            String(r.usage.runs).padEnd(6),
            `$${r.usage.costUsd.toFixed(2)}`.padEnd(9),
            probe ? status + ' '.repeat(Math.max(1, 14 - statusWidth)) : status,
            probe ? c(probe.status === 'ok' ? 'green' : 'red', probe.status) : '',
          ]
            .join(' ')
            .trimEnd(),
        );
        for (const p of r.problems) println(c('red', `  - ${p}`));
        for (const w of r.warnings) println(c('yellow', `  - ${w}`));
        if (probe)
          println(
            c(
              probe.status === 'ok' ? 'green' : 'red',
              `  - probe ${probe.status}: ${probe.reason} (${(probe.durationMs / 1000).toFixed(1)} s)`,
            ),
          );
      }
    });
}
