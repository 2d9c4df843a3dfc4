import fs from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { type Config, configSchema } from './schema.js';

/** Reads and validates config.yaml. A missing file means all defaults and no agents. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return configSchema.parse({});
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): Config {
  const doc = parseDocument(text, { prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0]?.line;
    throw new ConfigError(
      `${file}${line ? `:${line}` : ''}: invalid YAML: ${yamlError.message.split('\n')[0]}`,
      { file },
    );
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${file}: expected a mapping at the top level (agents, defaults, board)`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(file, result.error), { file });
  return result.data;
}

function describeIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((i) => {
    const at = i.path.length > 0 ? i.path.join('.') : '(top level)';
    return `${file}: ${at}: ${i.message}`;
  });
  if (error.issues.length > 5) lines.push(`... and ${error.issues.length - 5} more`);
  return lines.join('\n');
}
