import { useEffect, useRef, useState } from 'react';
import { type AnsiStyle, ansiLine } from './Ansi';
import { VirtualList } from './VirtualList';

interface Line {
  text: string;
  style: AnsiStyle;
}

/** Lines and the partial last line of a growing log, with the colour carried between lines. */
class LogLines {
  lines: Line[] = [];
  private partial = '';
  private style: AnsiStyle = {};

  push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) {
      this.lines.push({ text: p, style: this.style });
      this.style = ansiLine(p, this.style).end;
    }
  }

  get count(): number {
    return this.lines.length + (this.partial ? 1 : 0);
  }

  at(i: number): Line | undefined {
    return i < this.lines.length ? this.lines[i] : { text: this.partial, style: this.style };
  }
}

/** gc's message when it removed the run's log (the route answers 410 `output_removed`); null otherwise. */
async function logRemoved(runId: string, stream: string): Promise<string | null> {
  try {
    const res = await fetch(`/api/v1/runs/${runId}/logs?stream=${stream}&limit=1`, {
      credentials: 'same-origin',
    });
    if (res.status !== 410) return null;
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    return body.error?.code === 'output_removed' ? (body.error.message ?? 'removed by gc') : null;
  } catch {
    return null;
  }
}

/**
 * A run's stdout or stderr, live over SSE from byte 0, with ANSI colours.
 * Fixed-height lines in a virtual list: 100k lines scroll like 100.
 */
export function RawLog({ runId, stream }: { runId: string; stream: 'stdout' | 'stderr' }) {
  const [, setTick] = useState(0);
  const [status, setStatus] = useState<'connecting' | 'live' | 'ended' | 'error'>('connecting');
  /** Set when gc removed the log: the server's message, shown instead of an empty log. */
  const [removed, setRemoved] = useState<string | null>(null);
  const log = useRef(new LogLines());

  useEffect(() => {
    log.current = new LogLines();
    setTick((t) => t + 1);
    setStatus('connecting');
    setRemoved(null);
    let offset = 0;
    let ended = false;
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    const flush = () => {
      pending = false;
      setTick((t) => t + 1);
    };
    const open = () => {
      es = new EventSource(`/api/v1/runs/${runId}/logs/stream?stream=${stream}&offset=${offset}`);
      es.onopen = () => setStatus('live');
      es.addEventListener('log', (m: MessageEvent<string>) => {
        const chunk = JSON.parse(m.data) as { offset: number; text: string };
        offset =
          Number(m.lastEventId) || chunk.offset + new TextEncoder().encode(chunk.text).length;
        log.current.push(chunk.text);
        if (!pending) {
          pending = true;
          requestAnimationFrame(flush);
        }
      });
      es.addEventListener('exit', () => {
        ended = true;
        es?.close();
        setStatus('ended');
      });
      es.onerror = () => {
        if (ended || !es || es.readyState !== EventSource.CLOSED) return;
        setStatus('error');
        // An EventSource cannot read why it was refused: ask the log route, which says 410 once gc removed it.
        void logRemoved(runId, stream).then((why) => {
          if (ended) return;
          if (why === null) retry = setTimeout(open, 2000);
          else {
            ended = true;
            setRemoved(why);
          }
        });
      };
    };
    open();
    return () => {
      ended = true;
      clearTimeout(retry);
      es?.close();
    };
  }, [runId, stream]);

  const count = log.current.count;
  if (removed !== null) {
    return (
      <div className="state-box" role="note" data-testid="log-removed">
        {removed}
      </div>
    );
  }
  return (
    <div className="raw">
      <div className="raw-status muted">
        {count.toLocaleString()} lines ·{' '}
        {status === 'live'
          ? 'following live'
          : status === 'ended'
            ? 'complete'
            : status === 'error'
              ? 'reconnecting…'
              : 'connecting…'}
      </div>
      {count === 0 ? (
        <div className="state-box">
          {status === 'ended' ? `Nothing on ${stream}.` : `Waiting for ${stream}…`}
        </div>
      ) : (
        <VirtualList
          className="raw-lines"
          count={count}
          rowHeight={18}
          followTail
          overscan={20}
          render={(i) => {
            const l = log.current.at(i);
            return l ? <div className="raw-line">{ansiLine(l.text, l.style).nodes}</div> : null;
          }}
          label={`${stream} log`}
        />
      )}
    </div>
  );
}
