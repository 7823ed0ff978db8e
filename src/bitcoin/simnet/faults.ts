/**
 * Transient faults simnet's HTTP fronts can be told to produce, so the backend contract suite can show
 * that transient faults are retried and permanent ones are not: a 503, a request that never gets an
 * answer, a 200 whose body is garbage, a connection reset.
 */
export type FaultKind = 'unavailable' | 'timeout' | 'garbage' | 'reset';
export type Front = 'rpc' | 'esplora';

export class FaultInjector {
  private readonly queue: { kind: FaultKind; front: Front | 'both' }[] = [];
  /** Requests seen per front (faulted ones included). */
  readonly requests: Record<Front, number> = { rpc: 0, esplora: 0 };
  /** RPC calls per method, Esplora requests per path. */
  readonly calls = new Map<string, number>();

  /** The next `count` requests to `front` fail with `kind`. */
  inject(kind: FaultKind, count = 1, front: Front | 'both' = 'both'): void {
    for (let i = 0; i < count; i++) this.queue.push({ kind, front });
  }

  clear(): void {
    this.queue.length = 0;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Called once per request; returns the fault to apply, if any. */
  take(front: Front, call: string): FaultKind | undefined {
    this.requests[front]++;
    this.calls.set(call, (this.calls.get(call) ?? 0) + 1);
    const i = this.queue.findIndex((f) => f.front === front || f.front === 'both');
    if (i === -1) return undefined;
    const [f] = this.queue.splice(i, 1);
    return f?.kind;
  }

  callCount(call: string): number {
    return this.calls.get(call) ?? 0;
  }
}
