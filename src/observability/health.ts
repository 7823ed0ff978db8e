/**
 * Health and readiness, as components report them.
 *
 * Health (`/healthz`) answers "is this process doing its job?": a chain not being followed, Redis gone,
 * a deadline at risk, a wallet that cannot fund the next challenge make it unhealthy. Readiness (`/readyz`) answers "has it finished starting, and is
 * it not shutting down?". A check is a function the registry calls on each request, so the answer is
 * always current; a check that throws or takes longer than its timeout counts as unhealthy.
 */
export type HealthStatus = { healthy: true; reason?: string } | { healthy: false; reason: string };

export type HealthCheck = () => HealthStatus | Promise<HealthStatus>;

export type HealthReport = {
  status: 'ok' | 'unhealthy';
  /** Names of the components that are not healthy, sorted. */
  unhealthy: string[];
  components: Record<string, HealthStatus>;
};

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<HealthStatus> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<HealthStatus>((resolve) => {
        timer = setTimeout(
          () => resolve({ healthy: false, reason: `check did not answer within ${timeoutMs} ms` }),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    return { healthy: false, reason: `check failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
}

async function evaluate(checks: ReadonlyMap<string, HealthCheck>, timeoutMs: number): Promise<HealthReport> {
  const entries = await Promise.all(
    [...checks].map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
  );
  const components = Object.fromEntries(entries);
  const unhealthy = entries
    .filter(([, s]) => !s.healthy)
    .map(([n]) => n)
    .sort();
  return { status: unhealthy.length === 0 ? 'ok' : 'unhealthy', unhealthy, components };
}

export class HealthRegistry {
  readonly #health = new Map<string, HealthCheck>();
  readonly #readiness = new Map<string, HealthCheck>();
  readonly #timeoutMs: number;

  constructor(options: { checkTimeoutMs?: number } = {}) {
    this.#timeoutMs = options.checkTimeoutMs ?? CHECK_TIMEOUT_MS;
  }

  /** Registers (or replaces) a component's health check. Returns a function that removes it. */
  register(name: string, check: HealthCheck): () => void {
    this.#health.set(name, check);
    return () => {
      if (this.#health.get(name) === check) this.#health.delete(name);
    };
  }

  /** Registers (or replaces) a readiness condition. Returns a function that removes it. */
  registerReadiness(name: string, check: HealthCheck): () => void {
    this.#readiness.set(name, check);
    return () => {
      if (this.#readiness.get(name) === check) this.#readiness.delete(name);
    };
  }

  health(): Promise<HealthReport> {
    return evaluate(this.#health, this.#timeoutMs);
  }

  readiness(): Promise<HealthReport> {
    return evaluate(this.#readiness, this.#timeoutMs);
  }
}
