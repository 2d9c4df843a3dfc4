import type { App } from '../app/context.js';
import type { Redactor } from '../domain/redact.js';
import type { Engine } from '../engine/engine.js';
import type { ServerMetrics } from './metrics.js';
import type { RouteRegistry } from './route.js';
import type { SseOptions } from './sse.js';

/** What every route module gets: the application, the route registry, the redactor. */
export interface ServerContext {
  app: App;
  routes: RouteRegistry;
  redact: Redactor;
  /** Event-stream timings. */
  sse: SseOptions;
  /** This process's engine, once started; null with no worker here (or not yet). */
  engine: { current: Engine | null };
  /** The Prometheus registry /metrics serves, and the observer fed by the engine. */
  metrics: ServerMetrics;
}
