/**
 * The cross-check reads only what an epoch touched (plus globals, new records and a rolling sweep), yet a
 * contract whose state goes wrong is still caught: here the contracts' storage is changed behind the
 * model's back (anvil_setStorageAt on EpochManager's `rewards` mapping) between two epochs.
 * - An account the next epoch pays (an active validator) is caught at that very epoch end.
 */
import { type Abi, encodeAbiParameters, type Hex, keccak256, type Address as ViemAddress } from 'viem';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address, GovernanceInput } from '../../src/governance/index.ts';
import { reexecute } from '../../src/governance/reexecute.ts';
import { generateWorkload, type Workload } from '../../src/governance/workload.ts';
import { epochManagerAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { createGovernanceIngester, type L2ExecutionFault } from '../../src/l2/governance-ingester.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { type Chain, startChain, testRedis } from './helpers.ts';

/** EpochManager's storage: slot 0 epoch+lastEndBlock, 1 totalIssued, 2 treasury, 3 `rewards`. */
const REWARDS_SLOT = 3n;
const rewardSlot = (account: Address): Hex =>
  keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [account, REWARDS_SLOT]));

const SPLIT_EPOCH = 4;

describe('the touched-keys cross-check and a contract state changed behind the model', () => {
  let chain: Chain | undefined;
  let r: ReturnType<typeof testRedis> | undefined;
  afterEach(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  /** Replays the workload up to its SPLIT_EPOCH-th epoch end, lets `corrupt` pick an account, the rest. */
  const run = async (
    w: Workload,
    pick: (
      before: ReturnType<typeof reexecute>['state'],
      after: ReturnType<typeof reexecute>['state'],
    ) => Address,
  ) => {
    chain = await startChain(w.genesis);
    r = testRedis();
    let ends = 0;
    const end = w.inputs.find((i) => i.kind === 'endEpoch' && ++ends === SPLIT_EPOCH);
    if (!end) throw new Error(`the workload has fewer than ${SPLIT_EPOCH} epoch ends`);
    // Split between blocks: the driver mines a workload block's inputs together.
    const part1 = w.inputs.filter((i) => i.position.block <= end.position.block);
    const part2 = w.inputs.filter((i) => i.position.block > end.position.block);
    await chain.driver.prepareSenders(w.inputs.map((i: GovernanceInput) => i.sender));
    const first = await chain.driver.replay(part1, { prepared: true });
    const before = reexecute(part1, { genesis: w.genesis }).state;
    const after = reexecute(w.inputs, { genesis: w.genesis }).state;
    const account = pick(before, after);
    const rewardOf = async () =>
      BigInt(
        await chain!.rpc.request<Hex>('eth_call', [
          {
            to: chain!.deployment.addresses.epochManager,
            data: encodeCall(account),
          },
          'latest',
        ]),
      );
    // anvil writes storage into its head state: an empty block first, so the epoch end's state stays honest.
    await chain.rpc.mine(1);
    const honest = await rewardOf();
    expect(honest).toBe(before.rewards.get(account) ?? 0n);
    await chain.rpc.request('anvil_setStorageAt', [
      chain.deployment.addresses.epochManager,
      rewardSlot(account),
      `0x${(honest + 1n).toString(16).padStart(64, '0')}`,
    ]);
    expect(await rewardOf()).toBe(honest + 1n); // the slot is the mapping's
    const last = await chain.driver.replay(part2, { prepared: true, offset: first.offset + 1n });
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: r.prefix,
      deployment: chain.deployment,
      maxRange: 200n,
    });
    await gi.ingester.syncTo(last.lastBlock);
    const mismatches = gi.faults.filter(
      (f): f is Extract<L2ExecutionFault, { kind: 'state-mismatch' }> => f.kind === 'state-mismatch',
    );
    return { gi, account, mismatches };
  };

  it('an account the epoch pays is caught at that epoch end, by a check that read only what it touched', async () => {
    const w = generateWorkload({ seed: 5, inputs: 300, epochLength: 15 });
    const { gi, account, mismatches } = await run(w, (before) => {
      const paid = before.active[0]?.validator;
      if (!paid) throw new Error('no active validator after the split');
      return paid;
    });
    const first = mismatches[0];
    expect(first?.epochEnd.epoch).toBe(BigInt(SPLIT_EPOCH));
    expect(first?.differences.some((d) => d.startsWith(`reward of ${account}:`))).toBe(true);
    const check = gi.checks.find((c) => c.block === first?.epochEnd.block);
    expect(check?.scope).toBe('touched');
  });
});

function encodeCall(account: Address): Hex {
  // rewards(address): the public mapping's getter.
  const item = (epochManagerAbi as Abi).find((x) => x.type === 'function' && x.name === 'rewards');
  if (!item) throw new Error('EpochManager has no rewards getter');
  return `0x${keccak256(new TextEncoder().encode('rewards(address)')).slice(2, 10)}${(account as ViemAddress).slice(2).padStart(64, '0')}` as Hex;
}
