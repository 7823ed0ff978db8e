/**
 * `vigil devnet --game` (src/devnet/game-run.ts): the narrowing game played end to end on the devnet. The
 * operator claims every epoch through the L2's challenger registry, builds each claim graph on Vigil's
 * bundle and answers every round from its own build of the governance program; Vigil's watcher judges
 * every kick-off and plays its games as jobs on the simnet. A faulty operator is slashed at a step of its
 * fault's rule in every epoch its fault touched; its true claims are left alone and taken back.
 *
 * Bitcoin here is an external regtest node given as `--bitcoin-rpc` would give it (the simnet's own RPC
 * front, started by the test and reached over HTTP like a Bitcoin Core node): every transaction of the
 * game goes to it through `sendrawtransaction` (`maxburnamount` at Core's default).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { runDevnetGame } from '../../src/devnet/game-run.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { FAULT_RULE_LABEL } from '../governance/fault-cases.ts';
import { findBitingSeed } from './fault-seeds.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
let node: Simnet;
beforeAll(async () => {
  node = await startSimnet();
});
afterAll(async () => {
  await node.stop();
  await redis.quit();
});

describe('vigil devnet --game', () => {
  it('a faulty operator (vote-counted-twice): every false claim is narrowed to its rule and slashed, every true one taken back', async () => {
    const fault = 'vote-counted-twice';
    const bite = findBitingSeed(fault, 3);
    const lines: string[] = [];
    const url = new URL(node.rpcUrl);
    url.username = node.rpcAuth.user;
    url.password = node.rpcAuth.password;
    const summary = await runDevnetGame({
      redis,
      redisUrl: REDIS_URL,
      bitcoinRpc: url.toString(),
      epochs: 3,
      seed: bite.seed,
      fault,
      say: (l) => lines.push(l),
    });
    const why = `${lines.join('\n')}\n${JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}`;
    expect(summary.problems, why).toEqual([]);
    expect(summary.ok, why).toBe(true);
    expect(lines.join('\n')).toContain('bitcoin: regtest node at');
    expect(lines.join('\n')).not.toContain(node.rpcAuth.password);
    const frauds = summary.claims.filter((c) => c.fraud);
    expect(frauds.length, why).toBeGreaterThan(0);
    expect(
      summary.claims.some((c) => !c.fraud),
      why,
    ).toBe(true);
    for (const c of frauds) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe(`slash:${c.game?.endedAt}`);
      expect(c.end, why).toBe('slashed');
      expect(c.narrowed?.at, why).toMatch(FAULT_RULE_LABEL[fault] as RegExp);
      // The slash is in that node's chain, not only in Vigil's records.
      const endTxid = c.game?.endedTxid;
      expect(endTxid, why).toBeDefined();
      expect(node.chain.findTx(endTxid as string)?.block, why).toBeDefined();
    }
    for (const c of summary.claims.filter((x) => !x.fraud)) {
      expect(c.game, why).toBeUndefined();
      expect(c.end, why).toBe('taken');
    }
  }, 600_000);
  it('an operator that stalls its answer behind a large low-fee child while fees rise: Vigil’s timeout climbs its ladder, replaces both and slashes', async () => {
    const fault = 'vote-counted-twice';
    const lines: string[] = [];
    const summary = await runDevnetGame({
      redis,
      redisUrl: REDIS_URL,
      epochs: 3,
      seed: findBitingSeed(fault, 3).seed,
      fault,
      behaviour: { stallAt: 'answer2' },
      say: (l) => lines.push(l),
    });
    const why = `${lines.join('\n')}\n${JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}`;
    expect(summary.problems, why).toEqual([]);
    expect(why).toMatch(/stalled behind a \d+ vB child at 1 sat\/vB/);
    const frauds = summary.claims.filter((c) => c.fraud);
    expect(frauds.length, why).toBeGreaterThan(0);
    for (const c of frauds) {
      // The rung the estimate asked for was refused (BIP-125: less fee than the move and its child).
      expect(
        c.game?.timeouts.map((t) => t.id),
        why,
      ).toEqual(['timeout:choice1@64', 'timeout:choice1@1024']);
      expect(c.game?.endedBy, why).toBe('timeout:choice1@1024');
      // The top rung replaced the stalled move: nothing was outbid.
      expect(
        summary.alerts.map((x) => x.name),
        why,
      ).not.toContain('VigilGameTxOutbid');
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.end, why).toBe('slashed');
    }
  }, 600_000);
});
