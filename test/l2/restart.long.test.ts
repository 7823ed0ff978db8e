/**
 * Restarts (long suite: each child process pays tsx start-up): an ingester process is SIGKILLed at random moments (during start-up, mid-range, mid-cross-
 * check) and restarted from its Redis cursor; the final derived state equals an uninterrupted run's.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/core/bytes.ts';
import { computeStateRoot } from '../../src/governance/index.ts';
import { createRng, generateWorkload } from '../../src/governance/workload.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { encodeJournal } from '../../src/l2/journal-codec.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { inputBody } from './differential-run.ts';
import { type Chain, startChain, testRedis } from './helpers.ts';

const CHILD = new URL('./ingest-child.ts', import.meta.url).pathname;

function outcome(gi: GovernanceIngester) {
  return {
    inputs: gi.derivation.inputs.map(inputBody),
    epochRoots: gi.derivation.epochEnds.map((e) => `${e.epoch}@${e.block}:${e.root}`),
    root: bytesToHex(computeStateRoot(gi.derivation.state)),
  };
}

describe('killing the ingester at random points', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let head: bigint;

  beforeAll(async () => {
    const w = generateWorkload({ seed: 21, inputs: 260, epochLength: 20 });
    chain = await startChain(w.genesis);
    head = (await chain.driver.replay(w.inputs)).lastBlock;
    r = testRedis();
  });
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('restarts from the Redis cursor and ends where an uninterrupted run ends', {
    timeout: 600_000,
  }, async () => {
    const uninterrupted = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: `${r.prefix}:straight`,
      deployment: chain.deployment,
      maxRange: 9n,
    });
    await uninterrupted.ingester.syncTo(head);

    const prefix = `${r.prefix}:killed`;
    const env = {
      ...process.env,
      VIGIL_TEST_INGEST: encodeJournal({ rpcUrl: chain.anvil.rpcUrl, prefix, deployment: chain.deployment }),
    };
    const rng = createRng(4242);
    const cursorOf = async () => BigInt((await r.redis.hget(`${prefix}:cursor`, 'number')) ?? '-1');
    const hookedOf = async () => BigInt((await r.redis.hget(`${prefix}:cursor`, 'hooked')) ?? '-1');
    const seen: bigint[] = [];
    let kills = 0;
    for (let round = 0; round < 7 && (await hookedOf()) < head; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      // Wait for it to start (tsx takes a second or two), then kill it somewhere in its work: during the
      // journal replay, mid-range, mid-cross-check. The last round runs to the end.
      const last = round === 6;
      const startDeadline = Date.now() + 30_000;
      while (!out.includes('started') && Date.now() < startDeadline)
        await new Promise((res) => setTimeout(res, 10));
      const deadline = Date.now() + (last ? 60_000 : Math.floor(rng() * 450));
      while (Date.now() < deadline && (await hookedOf()) < head)
        await new Promise((res) => setTimeout(res, 5));
      child.kill('SIGKILL');
      await exited;
      if ((await hookedOf()) < head) kills++;
      seen.push(await cursorOf());
      expect(out).not.toContain('MISMATCH');
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    // The kills landed at different heights, i.e. mid-way, not only before the first or after the last step.
    expect(new Set(seen.filter((s) => s > 0n && s < head)).size).toBeGreaterThanOrEqual(1);
    expect(await hookedOf()).toBe(head);

    // A fresh process view of the killed run's Redis state: replay the journal and compare.
    const resumed = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix,
      deployment: chain.deployment,
      maxRange: 9n,
    });
    await resumed.ingester.syncTo(head);
    expect(outcome(resumed)).toEqual(outcome(uninterrupted));
  });
});
