import { useCallback, useEffect, useState } from 'react';
import { matchPage, PAGES } from '../../../src/contract/pages.js';
import { api, onUnauthorized } from '../api';
import { feed, useFeedStatus } from '../feed';
import { type Theme, useTheme } from '../hooks';
import { linkClick, navigate, useLocation } from '../router';
import { ActivityFeed } from './Activity';
import { AgentsPage } from './AgentsPage';
import { BoardPage } from './Board';
import { Login } from './Login';
import { MetricsPage } from './MetricsPage';
import { RunsPage } from './RunsPage';
import { TaskDetailPage } from './TaskDetail';
import { TaskDialog } from './TaskDialog';

const NAV = [
  [PAGES.board, 'Board'],
  [PAGES.runs, 'Runs'],
  [PAGES.insights, 'Metrics'],
  [PAGES.agents, 'Agents'],
] as const;

const THEMES: Theme[] = ['system', 'light', 'dark'];

export function App() {
  const { path, query } = useLocation();
  const [needToken, setNeedToken] = useState(false);
  const [agents, setAgents] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const [activity, setActivity] = useState(
    () => localStorage.getItem('agentboard.activity') === '1',
  );
  const [errors, setErrors] = useState<{ id: number; text: string }[]>([]);
  const [theme, setTheme] = useTheme();
  const status = useFeedStatus();

  useEffect(() => onUnauthorized(() => setNeedToken(true)), []);
  useEffect(() => {
    localStorage.setItem('agentboard.activity', activity ? '1' : '0');
  }, [activity]);
  const loadAgents = useCallback(() => {
    api<{ items: { name: string }[] }>('/agents').then(
      (r) => setAgents(r.items.map((a) => a.name)),
      () => setAgents([]),
    );
  }, []);
  useEffect(loadAgents, [loadAgents]);

  const onError = useCallback((text: string) => {
    const id = Date.now() + Math.random();
    setErrors((e) => [...e.slice(-3), { id, text }]);
    setTimeout(() => setErrors((e) => e.filter((x) => x.id !== id)), 8000);
  }, []);

  if (needToken) {
    return (
      <Login
        onDone={() => {
          setNeedToken(false);
          loadAgents();
          feed.reconnect();
        }}
      />
    );
  }

  const route = matchPage(path);
  let page: React.ReactNode;
  switch (route?.page) {
    case 'task': {
      const id = route.params.id ?? '';
      page = (
        <TaskDetailPage
          key={id}
          id={id}
          runParam={query.get('run')}
          tab={query.get('tab')}
          agents={agents}
          onError={onError}
        />
      );
      break;
    }
    case 'runs':
      page = <RunsPage agents={agents} query={query} />;
      break;
    case 'insights':
      page = <MetricsPage />;
      break;
    case 'agents':
      page = <AgentsPage />;
      break;
    case 'activity':
      page = <ActivityFeed />;
      break;
    case 'board':
    case 'login':
      page = <BoardPage agents={agents} onError={onError} />;
      break;
    case undefined:
      page = (
        <div className="page state-box">
          No page at {path}.{' '}
          <a href="/" onClick={linkClick}>
            Back to the board
          </a>
        </div>
      );
  }
  const current = route?.page === 'task' ? PAGES.board : path;

  return (
    <div className={`app${activity && path !== '/activity' ? ' with-activity' : ''}`}>
      <header className="topbar">
        <a href="/" onClick={linkClick} className="brand">
          <img src="/favicon.svg" alt="" width={20} height={20} /> agentboard
        </a>
        <nav aria-label="Pages">
          {NAV.map(([href, label]) => (
            <a
              key={href}
              href={href}
              onClick={linkClick}
              aria-current={current === href ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
          <a
            href={PAGES.activity}
            className="phone-only"
            onClick={linkClick}
            aria-current={route?.page === 'activity' ? 'page' : undefined}
          >
            Activity
          </a>
        </nav>
        <div className="topbar-right">
          <span className={`feed feed-${status}`} data-testid="feed-status" title="live updates">
            <i />{' '}
            {status === 'live'
              ? 'live'
              : status === 'connecting'
                ? 'connecting…'
                : 'offline, retrying'}
          </span>
          <button
            type="button"
            className="desktop-only"
            aria-pressed={activity}
            onClick={() => setActivity((a) => !a)}
          >
            Activity
          </button>
          <select
            aria-label="Theme"
            value={theme}
            onChange={(e) => setTheme(e.target.value as Theme)}
          >
            {THEMES.map((t) => (
              <option key={t} value={t}>
                {t === 'system' ? 'Auto' : t === 'light' ? 'Light' : 'Dark'}
              </option>
            ))}
          </select>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New task
          </button>
        </div>
      </header>
      {status === 'offline' ? (
        <div className="banner" role="status">
          Lost the connection to the board server. Reconnecting by itself; if it stays down, start
          it with <code>agentboard serve</code>.
        </div>
      ) : null}
      <main className="main">{page}</main>
      {activity && path !== '/activity' ? (
        <ActivityFeed onClose={() => setActivity(false)} />
      ) : null}
      <div className="toasts" aria-live="polite">
        {errors.map((e) => (
          <div key={e.id} className="toast" role="alert">
            {e.text}
            <button
              type="button"
              className="icon"
              aria-label="Dismiss"
              onClick={() => setErrors((x) => x.filter((y) => y.id !== e.id))}
            >
              ✕
            </button>
          </div>
        ))}
      </div>
      {creating ? (
        <TaskDialog
          agents={agents}
          onClose={() => setCreating(false)}
          onSaved={(t) => navigate(path === '/' ? '/' : `/tasks/${t.id}`)}
        />
      ) : null}
    </div>
  );
}
