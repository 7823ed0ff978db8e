/**
 * Restarts, in process: an ingester "dies" at a random RPC call (every later call hangs forever and the
 * object is abandoned — nothing after that point runs, as with SIGKILL), and a new ingester on the same
 * Redis prefix takes over. Deaths land in the journal replay, mid-range, between the journal commit and
 * the cross-check. The final state must equal an uninterrupted run's. The same with real processes and
 * SIGKILL is restart.long.test.ts.
 */

import type { PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot } from '../../src/governance/index.ts';
import { createRng, generateWorkload } from '../../src/governance/workload.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { type Chain, startChain, testRedis } from './helpers.ts';

/** An RPC that stops answering (forever) after `budget` calls: the process it belongs to is dead. */
class DyingRpc extends L2Rpc {
  private die: () => void = () => {};
  readonly died = new Promise<'dead'>((res) => {
    this.die = () => res('dead');
  });
  constructor(
    url: string,
    private budget: number,
  ) {
    super({ urls: [url] });
  }
  override call<T>(method: string, fn: (client: PublicClient) => Promise<T>): Promise<T> {
    if (this.budget-- <= 0) {
      this.die();
      return new Promise<T>(() => {});
    }
    return super.call(method, fn);
  }
}

function outcome(gi: GovernanceIngester) {
  return {
    inputs: gi.derivation.inputs.map(inputBody),
    epochRoots: gi.derivation.epochEnds.map((e) => `${e.epoch}@${e.block}:${e.root}`),
    root: bytesToHex(computeStateRoot(gi.derivation.state)),
  };
}

describe('restarting the ingester after it died at a random point', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let head: bigint;
  let straight: ReturnType<typeof outcome>;
  let straightChecks: bigint[];

  beforeAll(async () => {
    const w = generateWorkload({ seed: 21, inputs: 200, epochLength: 15 });
    chain = await startChain(w.genesis);
    head = (await chain.driver.replay(w.inputs)).lastBlock;
    r = testRedis();
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:straight`,
      deployment: chain.deployment,
      maxRange: 9n,
    });
    await gi.ingester.syncTo(head);
    straight = outcome(gi);
    straightChecks = gi.checks.map((c) => c.block);
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it.each([1, 2, 3])('seed %i of death points: same final state, every epoch cross-checked', async (seed) => {
    const rng = createRng(seed);
    const prefix = `${r.prefix}:dying-${seed}`;
    const checked = new Set<bigint>();
    let deaths = 0;
    for (let life = 0; life < 40; life++) {
      // The last life gets an unlimited budget.
      const budget = life === 39 ? Number.POSITIVE_INFINITY : 1 + Math.floor(rng() * 60);
      const rpc = new DyingRpc(chain.anvil.rpcUrl, budget);
      const gi = createGovernanceIngester({
        rpc,
        redis: r.redis,
        prefix,
        deployment: chain.deployment,
        maxRange: 9n,
        onEpochEnd: (end, check) => {
          if (check?.ok) checked.add(end.block);
        },
      });
      const done = gi.ingester.syncTo(head).then(() => 'done' as const);
      const outcomeOfLife = await Promise.race([done, rpc.died]);
      if (outcomeOfLife === 'done') {
        expect(outcome(gi)).toEqual(straight);
        break;
      }
      deaths++;
    }
    expect(deaths).toBeGreaterThanOrEqual(3);
    // Every epoch end was cross-checked in some life (a death between journal and check re-runs it).
    for (const b of straightChecks) expect(checked.has(b)).toBe(true);
  });
});
