import type { Command } from 'commander';
import { agentReports } from '../../app/agents.js';
import { paint, printJson, println, useColor } from '../output.js';
import { withApp } from '../with-app.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check each configured agent: binary, version, credentials (exit 1 if an agent in use cannot run)',
    )
    .option('--agent <name>', 'check only this agent')
    .option('--json', 'print JSON')
    .action(async (f) => {
      const reports = await withApp((app) => agentReports(app, f.agent));
      const failing = reports.filter((r) => r.inUse && !r.canRun);
      if (failing.length > 0) process.exitCode = 1;
      if (f.json) return printJson(reports);
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
          'AGENT        KIND      BINARY                          VERSION     CREDENTIALS          RUNNING  RUNS   COST      STATUS',
        ),
      );
      for (const r of reports) {
        const status = r.canRun
          ? c('green', r.warnings.length > 0 ? 'ok (warnings)' : 'ok')
          : c('red', r.inUse ? 'CANNOT RUN' : 'cannot run (unused)');
        const version = r.version ? `${r.version}${r.versionOk === false ? '!' : ''}` : '-';
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
            status,
          ].join(' '),
        );
        for (const p of r.problems) println(c('red', `  - ${p}`));
        for (const w of r.warnings) println(c('yellow', `  - ${w}`));
      }
    });
}
