/**
 * #15 acceptance 1 on the devnet (`vigil devnet --game`, long suite): for every catalogue fault, an
 * operator that runs the fault's build of the governance program claims every epoch through the
 * registry and answers every round from its own trace (lying where it must to keep its root): Vigil
 * narrows each false claim to a step of the fault's rule and its slash confirms, and the true claims of
 * the same run are left alone. Then one lying operator that stops answering at each round in turn, and
 * one that never asserts: Vigil takes the timeout of the round it stopped at (or the assert-timeout); and
 * one that uses all its time, every move mined in the last block before its timeout: still narrowed.
 * Last, one that shows the mempool one version of a move and has a block mine another (one txid, another
 * value): Vigil proves the equivocation on the move's output and D is slashed there. One that stalls a
 * move past its timeout behind a large low-fee child while fees are above the presigned rate: Vigil's
 * timeout climbs its ladder until it replaces both; and one that pins it with more fee than Vigil's top
 * rung: the game waits for the market and still ends in the slash. The timeout and the
 * equivocation once more through an external regtest node (`--bitcoin-rpc`: the simnet's RPC front
 * reached over HTTP as Bitcoin Core would be, blocks from `generatetoaddress` and `generateblock`).
 */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { type GameRunSummary, runDevnetGame } from '../../src/devnet/game-run.ts';
import { PROGRAM_FAULTS } from '../../src/machine/programs/faults.ts';
import { REDIS_URL } from '../../testkit/queue/scenario.ts';
import { FAULT_RULE_LABEL } from '../governance/fault-cases.ts';
import { findBitingSeed } from './fault-seeds.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
afterAll(async () => {
  await redis.quit();
});

const EPOCHS = 3;

async function run(
  fault: string,
  behaviour: Parameters<typeof runDevnetGame>[0]['behaviour'] = {},
  bitcoinRpc?: string,
) {
  const lines: string[] = [];
  const summary = await runDevnetGame({
    redis,
    redisUrl: REDIS_URL,
    ...(bitcoinRpc === undefined ? {} : { bitcoinRpc }),
    epochs: EPOCHS,
    seed: findBitingSeed(fault, EPOCHS).seed,
    fault,
    behaviour,
    say: (l) => lines.push(l),
  });
  const why = `${lines.join('\n')}\n${JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}`;
  return { summary, why };
}

const frauds = (s: GameRunSummary) => s.claims.filter((c) => c.fraud);

/** Every false claim of the run ended with the operator slashed, by `endedBy`. */
function expectEverySlashedBy(summary: GameRunSummary, why: string, endedBy: string): void {
  expect(summary.problems, why).toEqual([]);
  expect(frauds(summary).length, why).toBeGreaterThan(0);
  for (const c of frauds(summary)) {
    expect(c.game?.outcome, why).toBe('operator-slashed');
    expect(c.game?.endedBy, why).toBe(endedBy);
    expect(c.end, why).toBe('slashed');
  }
}

describe('vigil devnet --game: every catalogue fault is narrowed to its rule and slashed', () => {
  it.each(PROGRAM_FAULTS)('%s', async (fault) => {
    const { summary, why } = await run(fault);
    expect(summary.problems, why).toEqual([]);
    expect(frauds(summary).length, why).toBeGreaterThan(0);
    for (const c of frauds(summary)) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe(`slash:${c.game?.endedAt}`);
      expect(c.end, why).toBe('slashed');
      expect(c.narrowed?.at, why).toMatch(FAULT_RULE_LABEL[fault as keyof typeof FAULT_RULE_LABEL]);
    }
    const first = frauds(summary)[0];
    console.info(
      `${fault}: ${summary.claims.length} claims, ${frauds(summary).length} false, ${summary.blocks} blocks; epoch ${first?.epoch} slashed at ${first?.game?.endedAt} after ${first?.game?.moves} moves, step ${first?.narrowed?.step} (${first?.narrowed?.at})`,
    );
  });
});

describe('vigil devnet --game: a lying operator that stops at each round loses to its timeout', () => {
  const fault = 'vote-counted-twice';
  it.each(['answer2', 'answer3', 'answer4', 'reveal'])('silent at %s', async (silentAt) => {
    const { summary, why } = await run(fault, { silentAt });
    expect(summary.problems, why).toEqual([]);
    for (const c of frauds(summary)) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      // Vigil's timeout slash of the output the silent operator had to spend: the last move before it.
      expect(c.game?.endedBy, why).toMatch(/^timeout:/);
      expect(c.end, why).toBe('slashed');
    }
    console.info(
      `silent at ${silentAt}: ${frauds(summary)
        .map(
          (c) =>
            `epoch ${c.epoch} ended by ${c.game?.endedBy} on ${c.game?.endedAt} after ${c.game?.moves} moves`,
        )
        .join('; ')}`,
    );
  });

  it('late: the assert and every move in the last block before the timeout; still narrowed and slashed at the reveal', async () => {
    const onTime = await run(fault);
    const { summary, why } = await run(fault, { late: true });
    expect(summary.problems, why).toEqual([]);
    expect(frauds(summary).length, why).toBeGreaterThan(0);
    for (const c of frauds(summary)) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe('slash:reveal');
      expect(c.end, why).toBe('slashed');
      // The same step, named the same, as the operator that moves at once (a program's labels do not
      // depend on the programs the process built before it).
      expect(c.narrowed, why).toEqual(onTime.summary.claims.find((o) => o.epoch === c.epoch)?.narrowed);
      expect(c.narrowed?.at, why).toMatch(FAULT_RULE_LABEL[fault]);
    }
    // The assert and the operator's four moves of each game (answer 2, 3, 4, the reveal), each mined in
    // the last block before the timeout it races.
    const games = frauds(summary).length;
    expect(why.match(/the last before T_a/g)?.length, why).toBe(games);
    expect(why.match(/the last before the challenger's timeout/g)?.length, why).toBe(4 * games);
    expect(summary.blocks, why).toBeGreaterThan(onTime.summary.blocks);
    console.info(`late: ${summary.blocks} blocks against ${onTime.summary.blocks} on time`);
  });

  it('never asserts: the assert-timeout takes S', async () => {
    const { summary, why } = await run(fault, { neverAssert: true });
    expect(summary.problems, why).toEqual([]);
    for (const c of frauds(summary)) {
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe('assertTimeout');
      expect(c.end, why).toBe('timed-out');
    }
  });
});

describe('vigil devnet --game: fees spike above the challenge’s rate while the challenge waits', () => {
  it('Vigil pays for its challenge with a child, it confirms before T_c, and the game goes on to the slash', async () => {
    const { summary, why } = await run('vote-counted-twice', { feeSpike: true });
    expect(summary.problems, why).toEqual([]);
    expect(frauds(summary).length, why).toBeGreaterThan(0);
    for (const c of frauds(summary)) {
      expect(c.game?.challengeChildren, why).toBeGreaterThan(0);
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.end, why).toBe('slashed');
    }
    console.info(
      `fee spike: ${frauds(summary)
        .map((c) => `epoch ${c.epoch}: ${c.game?.challengeChildren} child(ren), ended by ${c.game?.endedBy}`)
        .join('; ')}`,
    );
  });
});

describe('vigil devnet --game: a lying operator that keeps its move unconfirmed past the timeout', () => {
  // The move goes out in the last block before Vigil's timeout, behind a 43 kvB child at 1 sat/vB, and
  // fees rise past the presigned rate: Vigil's timeout must replace both (BIP-125), so it climbs its
  // ladder to the top rung (1,024 sat/vB); the lower one it tries first is refused.
  it.each([
    ['assert', 'assertTimeout', /^assertTimeout:0@1024$/],
    ['answer2', 'timeout:choice1@1024', /^timeout:choice1@1024$/],
    ['reveal', 'timeout:choice4@1024', /^timeout:choice4@1024$/],
  ])(
    'stalls its %s: Vigil outbids the move and its child, and the operator is slashed',
    async (stallAt, endedBy, top) => {
      const { summary, why } = await run('vote-counted-twice', { stallAt });
      expect(summary.problems, why).toEqual([]);
      expect(frauds(summary).length, why).toBeGreaterThan(0);
      expect(why, why).toMatch(/stalled behind a \d+ vB child at 1 sat\/vB/);
      for (const c of frauds(summary)) {
        expect(c.game?.outcome, why).toBe('operator-slashed');
        expect(c.game?.endedBy, why).toBe(endedBy);
        expect(c.end, why).toBe(stallAt === 'assert' ? 'timed-out' : 'slashed');
        const written = c.game?.timeouts ?? [];
        expect(written.length, why).toBeGreaterThan(1);
        expect(written.at(-1)?.id, why).toMatch(top);
      }
      console.info(
        `stall at ${stallAt}: ${frauds(summary)
          .map(
            (c) =>
              `epoch ${c.epoch} ended by ${c.game?.endedBy}, timeouts written ${c.game?.timeouts.map((t) => `${t.id} (${t.fee} sats)`).join(', ')}`,
          )
          .join('; ')}`,
      );
    },
  );

  // The strongest child under the market: its package pays more than Vigil's top rung, so no timeout of
  // Vigil's replaces it. The market falls 4 blocks later, the move confirms late, and the game goes on
  // to the reveal: the delay is within the payout's margin, so the operator is still slashed there.
  it('pins its answer2 with more fee than Vigil’s top rung: the game waits for the market, then goes on to the slash', async () => {
    const { summary, why } = await run('vote-counted-twice', { stallAt: 'answer2', pin: true });
    expect(summary.problems, why).toEqual([]);
    expect(frauds(summary).length, why).toBeGreaterThan(0);
    const pinned = /pinned behind a \d+ vB child paying \d+ sats \(\w+\): the package pays (\d+) sats/.exec(
      why,
    );
    expect(pinned, why).not.toBeNull();
    for (const c of frauds(summary)) {
      const written = c.game?.timeouts ?? [];
      // Vigil tried every rung from the estimate up, and the pin outbid the top one.
      expect(
        written.map((t) => t.id),
        why,
      ).toEqual(['timeout:choice1@64', 'timeout:choice1@1024']);
      expect(BigInt(pinned?.[1] ?? 0), why).toBeGreaterThan(written.at(-1)?.fee ?? 0n);
      expect(c.game?.outcome, why).toBe('operator-slashed');
      expect(c.game?.endedBy, why).toBe('slash:reveal');
      expect(c.end, why).toBe('slashed');
      // Vigil said so while it lasted: its top rung outbid.
      expect(
        summary.alerts.some((x) => x.name === 'VigilGameTxOutbid' && x.labels.dispute === c.game?.id),
        why,
      ).toBe(true);
    }
    console.info(
      `pin at answer2: the package paid ${pinned?.[1]} sats; ${frauds(summary)
        .map(
          (c) =>
            `epoch ${c.epoch}: timeouts ${c.game?.timeouts.map((t) => `${t.id} (${t.fee} sats)`).join(', ')} refused, ended by ${c.game?.endedBy}`,
        )
        .join('; ')}`,
    );
  });
});

describe('vigil devnet --game: Vigil reads Bitcoin through a hostile Esplora front', () => {
  // The game's transactions have fixed txids, so Vigil reads them by txid: a front that hides every spend
  // of an output other than vout 0 blinds nothing, and one that answers garbage every third request costs
  // only retries. Each false claim still ends slashed; had one not, an alert would have to say why.
  it.each(['hide-spends', 'garbage'] as const)(
    '%s: every false claim is still slashed',
    async (lyingBackend) => {
      const { summary, why } = await run('vote-counted-twice', { lyingBackend });
      expectEverySlashedBy(summary, why, 'slash:reveal');
      expect(why).toMatch(
        new RegExp(`Vigil reads Bitcoin through a hostile Esplora front \\(${lyingBackend}\\)`),
      );
      for (const c of summary.claims.filter((x) => !x.fraud)) expect(c.game, why).toBeUndefined();
      console.info(
        `lying backend ${lyingBackend}: alerts ${summary.alerts.map((a) => a.name).join(', ') || 'none'}; ${frauds(
          summary,
        )
          .map((c) => `epoch ${c.epoch} ended by ${c.game?.endedBy}`)
          .join('; ')}`,
      );
    },
  );
});

describe('vigil devnet --game: a lying operator that commits a claim document on the L2 and withholds it', () => {
  // Nobody can challenge a claim whose presigned transactions nobody has: the claim stands, and Vigil
  // says so at the kick-off (protocol §24.11 item 44).
  it.each(['withheld', 'malformed'] as const)(
    '%s: no game, and VigilFalseClaimUnchallengeable at the kick-off',
    async (document) => {
      const { summary, why } = await run('vote-counted-twice', { document });
      expect(summary.problems, why).toEqual([]);
      expect(frauds(summary).length, why).toBeGreaterThan(0);
      for (const c of frauds(summary)) {
        expect(c.game, why).toBeUndefined();
        expect(c.end, why).toBe('taken');
      }
      expect(
        summary.alerts.map((a) => a.name),
        why,
      ).toContain('VigilFalseClaimUnchallengeable');
      if (document === 'malformed') expect(why).toMatch(/MALFORMED at document/);
    },
  );

  it('late: published 3 blocks after the kick-off, inside T_c: Vigil imports it, challenges in time and slashes', async () => {
    const { summary, why } = await run('vote-counted-twice', { document: 'late' });
    expectEverySlashedBy(summary, why, 'slash:reveal');
    expect(why).toMatch(/publishes its document at last, 3 blocks after the kick-off/);
  });
});

describe('vigil devnet --game: a lying operator that signs two values under one key loses D there', () => {
  const fault = 'vote-counted-twice';
  // The moves at depth when each ends: the slash comes at that move, not at the reveal the game would reach.
  it.each([
    ['assert', 0],
    ['answer2', 2],
    ['answer4', 6],
  ])(
    'shows one version of %s in the mempool and has another mined: Vigil proves the equivocation on its output',
    async (equivocateAt, moves) => {
      const { summary, why } = await run(fault, { equivocateAt });
      expect(summary.problems, why).toEqual([]);
      const site = equivocateAt === 'assert' ? 'reserve' : equivocateAt;
      for (const c of frauds(summary)) {
        expect(c.game?.outcome, why).toBe('operator-slashed');
        expect(c.game?.endedBy, why).toBe(`slash:${site}`);
        expect(c.end, why).toBe('slashed');
        expect(c.game?.moves, why).toBe(moves);
      }
      console.info(
        `equivocates at ${equivocateAt}: ${frauds(summary)
          .map((c) => `epoch ${c.epoch} ended by ${c.game?.endedBy} after ${c.game?.moves} moves`)
          .join('; ')}`,
      );
    },
  );
});

describe('vigil devnet --game --bitcoin-rpc: the same game through an external regtest node', () => {
  const fault = 'vote-counted-twice';
  it.each([
    ['silent-at:answer3', { silentAt: 'answer3' }, /^timeout:/],
    ['equivocate-at:answer2', { equivocateAt: 'answer2' }, /^slash:answer2$/],
  ])('operator %s: the game ends as on the simnet, in that node’s chain', async (_name, behaviour, by) => {
    const node = await startSimnet();
    try {
      const url = new URL(node.rpcUrl);
      url.username = node.rpcAuth.user;
      url.password = node.rpcAuth.password;
      const { summary, why } = await run(fault, behaviour, url.toString());
      expect(summary.problems, why).toEqual([]);
      expect(frauds(summary).length, why).toBeGreaterThan(0);
      for (const c of frauds(summary)) {
        expect(c.game?.outcome, why).toBe('operator-slashed');
        expect(c.game?.endedBy, why).toMatch(by);
        expect(node.chain.findTx(c.game?.endedTxid as string)?.block, why).toBeDefined();
      }
      console.info(
        `--bitcoin-rpc, ${_name}: ${frauds(summary)
          .map((c) => `epoch ${c.epoch} ended by ${c.game?.endedBy}`)
          .join('; ')}; the node at height ${node.chain.height}`,
      );
    } finally {
      await node.stop();
    }
  });
});
