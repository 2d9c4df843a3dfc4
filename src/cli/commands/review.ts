import type { Command } from 'commander';

/** Review commands (issue 18). */
export function registerReviews(_program: Command): void {}
