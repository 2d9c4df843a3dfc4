import fs from 'node:fs';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from 'yaml';
import type { z } from 'zod';
import { boardApprovalsProblems } from '../agents/approval-hooks.js';
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
  // linePos is only filled in with a LineCounter (or prettyErrors, which adds a code frame).
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new ConfigError(
      `${file}${line ? `:${line}` : ''}: invalid YAML: ${yamlError.message.split('\n')[0]}`,
      { file },
    );
  }
  refuseObjectKeys(doc.contents, [], file, lineCounter);
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(
      `${file}: expected a mapping at the top level (agents, defaults, board, server)`,
    );
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(file, result.error), { file });
  // `approvals: board` on a CLI that cannot ask headless would run it unasked or refused: say so now.
  const refused = boardApprovalsProblems(result.data);
  if (refused.length > 0)
    throw new ConfigError(refused.map((p) => `${file}: ${p}`).join('\n'), { file });
  return result.data;
}

/**
 * Keys that name a JavaScript object's machinery, not a plain name. As keys of
 * a parsed object they are either dropped (`__proto__` sets the prototype, so
 * an agent of that name silently vanished) or shadow what every object has;
 * no key of the config means any of them, in any mapping (agent names, env
 * variables, record keys), so they are refused with their path.
 */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function refuseObjectKeys(node: unknown, path: string[], file: string, lines: LineCounter): void {
  if (isAlias(node)) return; // its anchor is checked where it is defined
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      refuseObjectKeys(item, [...path, String(i)], file, lines);
    });
    return;
  }
  if (!isMap(node)) return;
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const at = [...path, key];
    if (RESERVED_KEYS.has(key)) {
      const pos = (pair.key as Node | null)?.range?.[0];
      const line = pos === undefined ? 0 : lines.linePos(pos).line;
      throw new ConfigError(
        `${file}${line ? `:${line}` : ''}: ${at.join('.')}: "${key}" cannot be used as a key (it names part of every JavaScript object): rename it`,
        { file },
      );
    }
    refuseObjectKeys(pair.value, at, file, lines);
  }
}

function describeIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((i) => {
    const at = i.path.length > 0 ? i.path.join('.') : '(top level)';
    return `${file}: ${at}: ${issueMessage(i)}`;
  });
  if (error.issues.length > 5) lines.push(`... and ${error.issues.length - 5} more`);
  return lines.join('\n');
}

/** Zod's message, plus what would have been valid where zod leaves that out. */
function issueMessage(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') {
    const known = keysAt(configSchema, i.path);
    const keys = i.keys.map((k) => `"${k}"`).join(', ');
    return `unknown key ${keys}${known ? ` (valid keys: ${known.join(', ')})` : ''}`;
  }
  if (i.code === 'invalid_key' && i.issues[0]) return `${i.message}: ${i.issues[0].message}`;
  return i.message;
}

/** The keys of the object schema found at `path` (records match any key), if it is one. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's public `_zod.def` introspection data
  let s: any = schema;
  for (let depth = 0; ; depth++) {
    for (let def = s?._zod?.def; def; def = s?._zod?.def) {
      if (['optional', 'default', 'prefault', 'nullable'].includes(def.type)) s = def.innerType;
      else if (def.type === 'pipe') s = def.in;
      else break;
    }
    const def = s?._zod?.def;
    if (!def) return undefined;
    if (depth === path.length) return def.type === 'object' ? Object.keys(def.shape) : undefined;
    const seg = path[depth];
    if (def.type === 'object' && typeof seg === 'string') s = def.shape[seg];
    else if (def.type === 'record') s = def.valueType;
    else return undefined;
  }
}
