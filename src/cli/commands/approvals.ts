import type { Command } from 'commander';

/** Approval commands (issue 18). */
export function registerApprovals(_program: Command): void {}
