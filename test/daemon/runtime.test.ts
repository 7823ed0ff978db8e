import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Component } from '../../src/core/component.ts';
import { Daemon } from '../../src/daemon/runtime.ts';
import { HealthRegistry } from '../../src/observability/health.ts';
import { createLogger } from '../../src/observability/logger.ts';

const logger = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

/** A component that records what happens to it into `events`. */
function recorder(
  name: string,
  events: string[],
  behaviour: { failStart?: boolean; stopMs?: number } = {},
): Component {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
    },
    async stop(signal) {
      events.push(`stop ${name}`);
      if (behaviour.stopMs) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, behaviour.stopMs);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            events.push(`abort ${name}`);
            resolve();
          });
        });
      }
    },
  };
}

describe('Daemon', () => {
  it('starts in order, stops in reverse order, and exits 0', async () => {
    const events: string[] = [];
    const daemon = new Daemon({
      components: ['redis', 'http', 'worker'].map((n) => recorder(n, events)),
      graceMs: 1000,
      logger,
    });
    await daemon.start();
    expect(await daemon.shutdown('test')).toBe('clean');
    expect(events).toEqual([
      'start redis',
      'start http',
      'start worker',
      'stop worker',
      'stop http',
      'stop redis',
    ]);
    expect(await daemon.stopped).toBe('clean');
  });

  it('a component that fails to start stops the ones already started, and the error surfaces', async () => {
    const events: string[] = [];
    const daemon = new Daemon({
      components: [
        recorder('redis', events),
        recorder('l2', events, { failStart: true }),
        recorder('worker', events),
      ],
      graceMs: 1000,
      logger,
    });
    await expect(daemon.start()).rejects.toThrow('l2 cannot start');
    expect(events).toEqual(['start redis', 'start l2', 'stop redis']);
  });

  it('a shutdown during start waits for the component being started, then stops it too', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const slow: Component = {
      name: 'slow',
      start: () =>
        new Promise<void>((resolve) => {
          events.push('start slow');
          release = resolve;
        }),
      stop: () => {
        events.push('stop slow');
      },
    };
    const daemon = new Daemon({
      components: [recorder('redis', events), slow, recorder('never', events)],
      graceMs: 1000,
      logger,
    });
    const starting = daemon.start();
    await new Promise((r) => setImmediate(r));
    const stopping = daemon.shutdown('signal during start');
    release();
    await starting;
    expect(await stopping).toBe('clean');
    expect(events).toEqual(['start redis', 'start slow', 'stop slow', 'stop redis']);
  });

  it('a shutdown during a start that never ends abandons it when the grace period is over: start returns, the started components stop', async () => {
    const events: string[] = [];
    const stuck: Component = {
      name: 'stuck',
      start: () =>
        new Promise<void>(() => {
          events.push('start stuck');
        }),
      stop: () => {
        events.push('stop stuck');
      },
    };
    const daemon = new Daemon({
      components: [recorder('redis', events), stuck, recorder('never', events)],
      graceMs: 50,
      logger,
    });
    const starting = daemon.start();
    await new Promise((r) => setImmediate(r));
    expect(await daemon.shutdown('signal during start')).toBe('abandoned');
    await starting;
    expect(events).toEqual(['start redis', 'start stuck', 'stop redis']);
  });

  it('readiness is true only while running', async () => {
    const health = new HealthRegistry();
    const daemon = new Daemon({ components: [], graceMs: 1000, logger, health });
    expect((await health.readiness()).unhealthy).toEqual(['daemon']);
    await daemon.start();
    expect((await health.readiness()).status).toBe('ok');
    await daemon.shutdown('test');
    expect((await health.readiness()).components.daemon).toEqual({
      healthy: false,
      reason: 'daemon stopped',
    });
  });

  it('the grace period aborts a slow stop, still stops the rest, and exits 1', async () => {
    const events: string[] = [];
    const daemon = new Daemon({
      components: [recorder('redis', events), recorder('worker', events, { stopMs: 60_000 })],
      graceMs: 50,
      logger,
    });
    await daemon.start();
    expect(await daemon.shutdown('test')).toBe('abandoned');
    expect(events).toEqual(['start redis', 'start worker', 'stop worker', 'abort worker', 'stop redis']);
  });

  it('shutdown is idempotent', async () => {
    const events: string[] = [];
    const daemon = new Daemon({ components: [recorder('a', events)], graceMs: 1000, logger });
    await daemon.start();
    const [x, y] = await Promise.all([daemon.shutdown('one'), daemon.shutdown('two')]);
    expect([x, y]).toEqual(['clean', 'clean']);
    expect(events.filter((e) => e === 'stop a')).toHaveLength(1);
  });
});
