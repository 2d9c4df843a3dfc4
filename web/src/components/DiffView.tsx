import { api } from '../api';
import { useAsync } from '../hooks';
import { VirtualList } from './VirtualList';

interface Diff {
  branch: string;
  base: string;
  from: string;
  to: string;
  files: { path: string; added: number | null; removed: number | null }[];
  patch: string;
}

function lineClass(l: string): string {
  if (l.startsWith('+++') || l.startsWith('---') || l.startsWith('diff ')) return 'd-file';
  if (l.startsWith('@@')) return 'd-hunk';
  if (l.startsWith('+')) return 'd-add';
  if (l.startsWith('-')) return 'd-del';
  return '';
}

/** What the run changed in its worktree: files with their counts, then the patch (virtualized). */
export function DiffView({ runId }: { runId: string }) {
  const diff = useAsync(() => api<Diff>(`/runs/${runId}/diff`), [runId]);
  if (diff.error) return <div className="state-box">{diff.error}</div>;
  const d = diff.data;
  if (!d) return <div className="state-box">Loading the diff…</div>;
  if (d.files.length === 0) {
    return <div className="state-box">This run changed no files on {d.branch}.</div>;
  }
  const lines = d.patch.split('\n');
  return (
    <div className="raw" data-testid="diff">
      <div className="diff-files">
        <span className="muted">
          {d.branch} · {d.from.slice(0, 8)}..{d.to.slice(0, 8)} · {d.files.length} files
        </span>
        {d.files.map((f) => (
          <span key={f.path} className="diff-file">
            <code>{f.path}</code> <span className="d-add">+{f.added ?? '?'}</span>{' '}
            <span className="d-del">−{f.removed ?? '?'}</span>
          </span>
        ))}
      </div>
      <VirtualList
        className="raw-lines"
        count={lines.length}
        rowHeight={18}
        overscan={20}
        render={(i) => <div className={`raw-line ${lineClass(lines[i] ?? '')}`}>{lines[i]}</div>}
        label="Patch"
      />
    </div>
  );
}
