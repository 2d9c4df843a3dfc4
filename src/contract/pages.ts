/**
 * The board's page routes: the server answers each with index.html, the
 * security layer lets the page shell load without a token (it holds no data),
 * and the web's router renders the page. One list, for all three.
 */
export const PAGES = {
  board: '/',
  task: '/tasks/:id',
  runs: '/runs',
  // /metrics is the Prometheus endpoint, so the metrics page lives at /insights.
  insights: '/insights',
  agents: '/agents',
  activity: '/activity',
  // Without a code, /login shows the board (and its login form); with one, login.ts logs in.
  login: '/login',
} as const;
export type PageName = keyof typeof PAGES;

/** The page routes, Fastify style (`:id`). */
export const PAGE_ROUTES: readonly string[] = Object.values(PAGES);

/** What a path parameter of a page may hold: an id, never a separator. */
const PARAM = '[\\w.-]+';

function patternOf(route: string): string {
  return route
    .split('/')
    .map((seg) => (seg.startsWith(':') ? PARAM : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
}

/** A regex matching any of `routes` (and nothing else): `/tasks/:id` matches `/tasks/T-4`. */
export function routesPattern(routes: readonly string[]): RegExp {
  return new RegExp(`^(?:${routes.map(patternOf).join('|')})$`);
}

/** Which page `path` is, with its `:params`; null when it is none of them. */
export function matchPage(path: string): { page: PageName; params: Record<string, string> } | null {
  for (const [page, route] of Object.entries(PAGES) as [PageName, string][]) {
    const names: string[] = [];
    const re = new RegExp(
      `^${route
        .split('/')
        .map((seg) => {
          if (!seg.startsWith(':')) return seg;
          names.push(seg.slice(1));
          return '([^/]+)';
        })
        .join('/')}$`,
    );
    const m = re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1] ?? '');
      });
    } catch {
      return null; // bad percent-encoding: no page
    }
    return { page, params };
  }
  return null;
}

/** The path of a page, its `:params` filled in. */
export function pagePath(page: PageName, params: Record<string, string> = {}): string {
  return PAGES[page].replace(/:(\w+)/g, (_, n: string) => encodeURIComponent(params[n] ?? ''));
}
