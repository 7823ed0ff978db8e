/**
 * A real execution fault still fires (issue #20, acceptance 3): a Governor deliberately patched to skip
 * the quorum check at `queue` queues a proposal that lacks its quorum; ingestion reports it as the first L2
 * execution fault, `rejected-input` by `queue.quorum`, at exactly the block of that queue transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, GovernanceInput } from '../../src/governance/inputs.ts';
import type { ReplayResult } from '../../src/l2/driver.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { runFuzz } from './fuzz.ts';
import { type Chain, patchedBytecode, startChain, testRedis } from './helpers.ts';

const QUORUM_NOT_CHECKED = [
  'Governor.sol',
  'if (turnout * Limits.BPS < uint256(p.quorumBps) * p.bondedAtSnapshot) revert Rejected("queue.quorum");',
  '',
] as const;

const WHALE = '0x00000000000000000000000000000000000000e1' as Address;
const MINNOW = '0x00000000000000000000000000000000000000e2' as Address;
const E18 = 10n ** 18n;
const at = (block: bigint, txIndex = 0) => ({ block, txIndex, logIndex: 0 });

/** Block 10 queues proposal 1, whose only vote (the minnow's 1%) is far below the 40% quorum. */
const QUEUE_BLOCK = 10n;
const INPUTS: GovernanceInput[] = [
  { kind: 'registerValidator', sender: WHALE, commissionBps: 500, position: at(1n, 0) },
  { kind: 'registerValidator', sender: MINNOW, commissionBps: 500, position: at(1n, 1) },
  { kind: 'stake', sender: WHALE, amount: 990n * E18, position: at(2n, 0) },
  { kind: 'stake', sender: MINNOW, amount: 10n * E18, position: at(2n, 1) },
  { kind: 'endEpoch', sender: WHALE, position: at(3n) },
  {
    kind: 'propose',
    sender: MINNOW,
    actions: [{ kind: 'setParameter', key: 'quorumBps', value: 100n }],
    position: at(4n),
  },
  { kind: 'vote', sender: MINNOW, proposalId: 1n, support: 'for', position: at(5n) },
  { kind: 'endEpoch', sender: WHALE, position: at(6n) },
  { kind: 'queue', sender: MINNOW, proposalId: 1n, position: at(QUEUE_BLOCK) },
  { kind: 'endEpoch', sender: WHALE, position: at(11n) },
];

describe('a Governor that skips the quorum check at queue', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  let replay: ReplayResult;
  let bytecode: ReturnType<typeof patchedBytecode>;

  beforeAll(async () => {
    bytecode = patchedBytecode([QUORUM_NOT_CHECKED]);
    chain = await startChain(
      { params: { votingPeriod: 5n, timelock: 2n, quorumBps: 4000n, minStake: E18 } },
      {},
      bytecode,
    );
    r = testRedis();
    replay = await chain.driver.replay(INPUTS, { checkReceipts: true });
  }, 120_000);
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('is reported at the block of the queue, and nothing before it', async () => {
    // The patched contract accepted every transaction, the queue included.
    expect(replay.reverted).toEqual([]);
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: r.prefix,
      deployment: chain.deployment,
    });
    await gi.ingester.syncTo(replay.lastBlock);
    const queueBlock = QUEUE_BLOCK + replay.offset;
    expect(gi.faults.length).toBeGreaterThanOrEqual(1);
    expect(gi.faults[0]).toEqual({
      kind: 'rejected-input',
      block: queueBlock,
      rule: 'queue.quorum',
      reason: expect.any(String),
      inputKind: 'queue',
    });
    // Before it the chain and the model agreed: the epoch ends before the queue cross-checked fine.
    const before = gi.checks.filter((c) => c.block < queueBlock);
    expect(before.length).toBe(2);
    expect(before.every((c) => c.ok)).toBe(true);
    expect(gi.derivation.rejected.map((x) => [x.input.kind, x.rule, x.input.position.block])).toEqual([
      ['queue', 'queue.quorum', queueBlock],
    ]);
    // After it the contract's state (a queued proposal) is no longer the model's.
    expect(gi.faults.slice(1).map((f) => f.kind)).toEqual(['state-mismatch']);
  });

  it('the fuzzer, run against the patched Governor, reports a disagreement', {
    timeout: 120_000,
  }, async () => {
    const f = await runFuzz({ seed: 2, transactions: 600, bytecode });
    expect(f.faults.find((x) => x.kind === 'rejected-input' && x.rule === 'queue.quorum')).toBeDefined();
    expect(f.disagreements.some((d) => /queue.quorum/.test(d))).toBe(true);
  });
});
