/**
 * The devnet's mirrors of the game's alert rules (src/devnet/alerts.ts, config/alerts.yml): a false claim
 * Vigil cannot challenge, a bundle not posted, and Vigil owing a game's move with a third of its window
 * left. Each fires on the metric the watcher sets and on nothing else.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { shippedAlertNames, watchAlerts } from '../../src/devnet/alerts.ts';

const GAME_RULES = [
  'VigilFalseClaimUnchallengeable',
  'VigilBundleNotPosted',
  'VigilGameDeadlineNear',
  'VigilGameTxOutbid',
];

function gameMetrics() {
  const registry = new Registry();
  return {
    registry,
    unchallengeable: new Counter({
      name: 'vigil_false_claims_unchallengeable_total',
      help: 'h',
      registers: [registry],
    }),
    notPosted: new Counter({
      name: 'vigil_bundles_not_posted_total',
      help: 'h',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deadline: new Gauge({
      name: 'vigil_game_deadline_blocks',
      help: 'h',
      labelNames: ['dispute', 'owes'],
      registers: [registry],
    }),
    window: new Gauge({
      name: 'vigil_game_move_blocks',
      help: 'h',
      labelNames: ['dispute'],
      registers: [registry],
    }),
    outbid: new Gauge({
      name: 'vigil_game_outbid',
      help: 'h',
      labelNames: ['dispute', 'tx'],
      registers: [registry],
    }),
  };
}

describe('the devnet’s mirrors of the game’s alert rules', () => {
  it('ship in config/alerts.yml and are evaluated', () => {
    const shipped = shippedAlertNames();
    for (const name of GAME_RULES) expect(shipped).toContain(name);
    const watch = watchAlerts(new Registry());
    for (const name of GAME_RULES) expect(watch.notEvaluated).not.toContain(name);
  });

  it('fire on an unchallengeable false claim and a bundle not posted, once each', async () => {
    const m = gameMetrics();
    const watch = watchAlerts(m.registry, GAME_RULES);
    await watch.sample(1);
    expect(watch.raised()).toEqual([]);
    m.unchallengeable.inc();
    m.notPosted.inc({ reason: 'no-bond-coin' });
    await watch.sample(2);
    await watch.sample(3);
    expect(watch.raised().map((a) => [a.name, a.labels, a.atBlock])).toEqual([
      ['VigilFalseClaimUnchallengeable', {}, 2],
      ['VigilBundleNotPosted', { reason: 'no-bond-coin' }, 2],
    ]);
  });

  it('fire when Vigil owes a move with t / 3 blocks or fewer left, never for the operator’s move', async () => {
    const m = gameMetrics();
    const watch = watchAlerts(m.registry, GAME_RULES);
    m.window.set({ dispute: 'g1' }, 3);
    m.deadline.set({ dispute: 'g1', owes: 'vigil' }, 2);
    m.deadline.set({ dispute: 'g2', owes: 'operator' }, 0);
    m.window.set({ dispute: 'g2' }, 3);
    await watch.sample(1);
    expect(watch.raised()).toEqual([]);
    m.deadline.set({ dispute: 'g1', owes: 'vigil' }, 1);
    await watch.sample(2);
    expect(watch.raised().map((a) => [a.name, a.labels])).toEqual([
      ['VigilGameDeadlineNear', { dispute: 'g1' }],
    ]);
  });

  it('fire while Vigil’s top rung is outbid, once per game and transaction', async () => {
    const m = gameMetrics();
    const watch = watchAlerts(m.registry, GAME_RULES);
    m.outbid.set({ dispute: 'g1', tx: 'game-timeout' }, 1);
    await watch.sample(1);
    m.outbid.remove({ dispute: 'g1', tx: 'game-timeout' });
    await watch.sample(2);
    expect(watch.raised().map((a) => [a.name, a.labels, a.atBlock])).toEqual([
      ['VigilGameTxOutbid', { dispute: 'g1', tx: 'game-timeout' }, 1],
    ]);
  });
});
