import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { BoardAccess } from '../../app/board-access.js';
import { type MessageView, POST_MESSAGE_TYPES, postableMessageType } from '../../app/messages.js';
import { UsageError } from '../../domain/errors.js';
import { parseTaskId } from '../../domain/ids.js';
import { nonNegativeInt, positiveInt } from '../args.js';
import { withBoard } from '../board.js';
import { paint, printJson, println, type Style, useColor } from '../output.js';

const PAGE = 500;
/** How often `--follow` looks for new rows: one PRAGMA on SQLite, a query otherwise. */
const FOLLOW_LOCAL_MS = 100;
const FOLLOW_REMOTE_MS = 500;

const TYPE_STYLE: Record<string, Style> = {
  PROGRESS: 'blue',
  FACT: 'cyan',
  DECISION: 'green',
  QUESTION: 'yellow',
  ERROR: 'red',
  RUN_START: 'gray',
  RUN_STOP: 'gray',
};

/** Who is posting: an agent's runs get AGENTBOARD_AGENT from the launcher. */
export function defaultAuthor(): string {
  const env = process.env;
  return env.AGENTBOARD_AUTHOR || env.AGENTBOARD_AGENT || env.USER || 'user';
}

export function registerBus(program: Command): void {
  const bus = program
    .command('bus')
    .description('the message bus: notes agents and people leave on a task or the board');

  bus
    .command('post [text]')
    .description(
      'post a message (the text, or standard input when no text is given); inside a run it is about that run unless --task or --board',
    )
    .option('--task <id>', 'the task it is about')
    .option('--board', 'about the whole board, even inside a run')
    .option('--type <type>', POST_MESSAGE_TYPES.join(' | '), 'PROGRESS')
    .option('--author <name>', 'who is posting', defaultAuthor())
    .option('--json', 'print the message as JSON')
    .action(async (text: string | undefined, f) => {
      // Checked before standard input is read; RUN_START and RUN_STOP are the engine's own.
      const type = postableMessageType(String(f.type));
      if (f.task && f.board) throw new UsageError('use --task or --board, not both');
      const body = text ?? readStdin();
      const runId = !f.task && !f.board ? process.env.AGENTBOARD_RUN_ID || undefined : undefined;
      const m = await withBoard((board) =>
        board.postMessage({
          ...(f.task ? { taskId: parseTaskId(f.task) } : {}),
          ...(runId ? { runId } : {}),
          type,
          author: f.author,
          body,
        }),
      );
      if (f.json) printJson(m);
      else println(`message ${m.id} posted${m.taskId ? ` on ${m.taskId}` : ' to the board'}`);
    });

  bus
    .command('read')
    .description('read messages, oldest first: the whole board, or one task')
    .option('--task <id>', 'only this task’s messages')
    .option('--tail <n>', 'only the last N', positiveInt('tail'))
    .option('--after <id>', 'only messages after this id', nonNegativeInt('after'))
    .option('--follow', 'keep printing new messages as they are posted (Ctrl-C stops)')
    .option('--json', 'print JSON (with --follow: one JSON object per line)')
    .action(async (f) => {
      if (f.tail !== undefined && f.after !== undefined)
        throw new UsageError('use --tail or --after, not both');
      const taskId = f.task ? parseTaskId(f.task) : undefined;
      const color = useColor();
      await withBoard(async (board) => {
        let cursor = f.after ?? 0;
        const printed: MessageView[] = [];
        const emit = (items: MessageView[]) => {
          if (f.json && !f.follow) printed.push(...items);
          else for (const m of items) println(f.json ? JSON.stringify(m) : formatMessage(m, color));
        };
        if (f.tail !== undefined) {
          const page = await board.tailMessages({ taskId, limit: f.tail });
          emit(page.items);
          cursor = page.next;
        } else {
          cursor = await drain(board, taskId, cursor, emit);
        }
        if (f.json && !f.follow) printJson(printed);
        if (f.follow) await follow(board, taskId, cursor, emit);
      });
    });
}

/** Prints every message after `cursor`; returns the new cursor. */
async function drain(
  board: BoardAccess,
  taskId: number | undefined,
  after: number,
  emit: (items: MessageView[]) => void,
): Promise<number> {
  let cursor = after;
  for (;;) {
    const page = await board.readMessages({ taskId, after: cursor, limit: PAGE });
    emit(page.items);
    cursor = page.next;
    if (!page.more) return cursor;
  }
}

/**
 * Polls for new rows until the process is stopped. A board opened here is
 * asked only when it changed (SQLite's data_version: one PRAGMA, no query).
 */
async function follow(
  board: BoardAccess,
  taskId: number | undefined,
  after: number,
  emit: (items: MessageView[]) => void,
): Promise<never> {
  const changed = board.changeProbe?.() ?? null;
  let cursor = after;
  for (;;) {
    await sleep(changed ? FOLLOW_LOCAL_MS : FOLLOW_REMOTE_MS);
    if (changed && !changed()) continue;
    cursor = await drain(board, taskId, cursor, emit);
  }
}

function formatMessage(m: MessageView, color: boolean): string {
  const c = paint(color);
  const where = m.taskId ?? 'board';
  const head = `${c('dim', m.createdAt)} ${where} ${c(TYPE_STYLE[m.type] ?? 'bold', m.type)} ${c('bold', m.author)}:`;
  const lines = m.body.trimEnd().split('\n');
  return lines.length === 1 ? `${head} ${lines[0]}` : `${head}\n  ${lines.join('\n  ')}`;
}

function readStdin(): string {
  if (process.stdin.isTTY) {
    throw new UsageError('give the message text, or pipe it on standard input');
  }
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read standard input: ${(e as Error).message}`);
  }
}
