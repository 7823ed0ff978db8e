import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/daemon-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Run = {
  child: ChildProcess;
  stdout: () => string;
  logs: () => Record<string, unknown>[];
  waitFor: (text: string) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const children: ChildProcess[] = [];
// Tests run concurrently, so leftovers are killed once all are done, never between tests.
afterAll(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.filter((w) => out.includes(w.text))) w.resolve();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    logs: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    waitFor: (text) =>
      out.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ text, resolve })),
    exit,
  };
}

describe.concurrent('shutdown', () => {
  it('SIGTERM: intake stops, in-flight work completes, connections close, exit 0', async () => {
    const run = start({ WORK_MS: '1500', GRACE_MS: '20000' });
    await run.waitFor('WORK STARTED');
    const port = Number(/READY (\d+)/.exec(run.stdout())?.[1]);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    run.child.kill('SIGTERM');
    await run.waitFor('INTAKE closed');
    // While the worker drains, the process says it is not ready but still healthy.
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      unhealthy: ['daemon'],
      components: { daemon: { reason: 'shutting down' } },
    });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    expect(await run.exit).toEqual({ code: 0, signal: null });
    const out = run.stdout();
    expect(out.indexOf('WORK DONE')).toBeGreaterThan(out.indexOf('INTAKE closed'));
    expect(out).toContain('EXIT 0');
    // Stopped in reverse order of start: the worker drains before HTTP and Redis are closed.
    const stopped = run
      .logs()
      .filter((l) => l.msg === 'component stopped')
      .map((l) => l.component);
    expect(stopped).toEqual(['worker', 'http', 'redis']);
    expect(run.logs().some((l) => l.msg === 'vigil stopped cleanly')).toBe(true);
  });

  it('SIGINT works the same way', async () => {
    const run = start({ WORK_MS: '500', GRACE_MS: '20000' });
    await run.waitFor('WORK STARTED');
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toContain('WORK DONE');
  });

  it('a second signal exits at once with 128 + signal number, abandoning the work', async () => {
    const run = start({ WORK_MS: '60000', GRACE_MS: '60000' });
    await run.waitFor('WORK STARTED');
    run.child.kill('SIGTERM');
    await run.waitFor('INTAKE closed');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 143, signal: null });
    expect(run.stdout()).not.toContain('WORK DONE');
    expect(run.logs().some((l) => String(l.msg).startsWith('second signal'))).toBe(true);
  });

  it('work outlasting the grace period: abandoned, named in the log, exit 1', async () => {
    const run = start({ WORK_MS: '60000', GRACE_MS: '300' });
    await run.waitFor('WORK STARTED');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stdout()).not.toContain('WORK DONE');
    const over = run.logs().find((l) => String(l.msg).startsWith('grace period over'));
    expect(over).toMatchObject({ component: 'worker', remaining: ['worker', 'http', 'redis'], graceMs: 300 });
    // The connections are still closed after the grace period, HTTP before Redis.
    const stopped = run
      .logs()
      .filter((l) => l.msg === 'component stopped')
      .map((l) => l.component)
      .filter((c) => c !== 'worker');
    expect(stopped).toEqual(['http', 'redis']);
  });

  it('an error escaping every component is logged as fatal and exits 70', async () => {
    const run = start({ WORK_MS: '60000', CRASH: '1' });
    expect(await run.exit).toEqual({ code: 70, signal: null });
    const fatal = run.logs().find((l) => l.level === 'fatal');
    expect(fatal).toMatchObject({ msg: 'uncaught error: exiting', err: { message: 'boom in a worker' } });
  });
});
