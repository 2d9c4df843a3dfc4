import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from './api';

/** The current time, re-rendering every `everyMs` while `active`. */
export function useNow(everyMs = 1000, active = true): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs, active]);
  return now;
}

export interface Async<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change; `reload` re-runs it keeping the old data shown. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error: string | null; loading: boolean }>({
    error: null,
    loading: true,
  });
  const seq = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  // The caller's dependencies, compared by value: a change means loading again.
  const key = JSON.stringify(deps);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the caller's dependencies
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    latest.current().then(
      (data) => {
        if (n === seq.current) setState({ data, error: null, loading: false });
      },
      (e: unknown) => {
        if (n === seq.current) setState((s) => ({ ...s, error: errorText(e), loading: false }));
      },
    );
  }, [key]);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

export type Theme = 'light' | 'dark' | 'system';

export function applyTheme(t: Theme): void {
  const dark =
    t === 'dark' || (t === 'system' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem('agentboard.theme') as Theme | null) ?? 'system',
  );
  useEffect(() => {
    applyTheme(theme);
    localStorage.setItem('agentboard.theme', theme);
    if (theme !== 'system') return;
    const m = window.matchMedia('(prefers-color-scheme: dark)');
    const on = () => applyTheme('system');
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, [theme]);
  return [theme, setTheme];
}
