import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentEvent, TranscriptParser } from '../../src/agents/events.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A recorded output file, from test/fixtures (compiled tests run from dist/test). */
export function fixture(rel: string): string {
  return fs.readFileSync(path.join(ROOT, 'test/fixtures', rel), 'utf8');
}

export function fixtureExists(rel: string): boolean {
  return fs.existsSync(path.join(ROOT, 'test/fixtures', rel));
}

/** Feeds text line by line, as the transcript tail does. */
export function parseAll(parser: TranscriptParser, text: string): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const line of text.split('\n')) out.push(...parser.line(line));
  out.push(...parser.end());
  return out;
}

export function ofType<T extends AgentEvent['type']>(
  events: AgentEvent[],
  type: T,
): Extract<AgentEvent, { type: T }>[] {
  return events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
}
