/**
 * Disagreements the differential fuzzer found, each reduced to one transaction (issue #20).
 *
 * 1. A `propose` whose action sets a field its kind does not use (a setParameter with a version or a code
 *    hash, an upgradeModule with a value). Governor.propose refuses it naming `propose` ("Unused fields must
 *    be zero", Common.sol); the reverted-transaction decoder (src/l2/decode.ts, toAction) drops those fields,
 *    so the model saw a valid proposal, accepted it, and Vigil reported a `reverted-input-accepted` L2
 *    execution fault on an honest chain: anyone could raise it for the price of one transaction. The
 *    decoder now treats such an action as no model action (as it does an action of kind 2): the refusal
 *    is not a governance input and no fault is raised.
 */
import { encodeFunctionData } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { governorAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { createGovernanceIngester } from '../../src/l2/governance-ingester.ts';
import { nameToBytes32 } from '../../src/l2/names.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { type Chain, startChain, testRedis } from './helpers.ts';

const PROPOSER = '0x00000000000000000000000000000000000000a7';
const ZERO32 = `0x${'00'.repeat(32)}` as const;

describe('fuzz reproducers', () => {
  let chain: Chain;
  let r: ReturnType<typeof testRedis>;
  const tx: Record<string, { hash: string; status: string }> = {};

  beforeAll(async () => {
    chain = await startChain({});
    r = testRedis();
    await chain.rpc.request('anvil_autoImpersonateAccount', [true]);
    await chain.rpc.request('anvil_setBalance', [PROPOSER, '0x56bc75e2d63100000']);
    const propose = async (
      name: string,
      action: {
        kind: number;
        key: `0x${string}`;
        value: bigint;
        version: bigint;
        codeHash: `0x${string}`;
      },
    ) => {
      const data = encodeFunctionData({ abi: governorAbi, functionName: 'propose', args: [[action]] });
      const hash = await chain.rpc.request<string>('eth_sendTransaction', [
        { from: PROPOSER, to: chain.deployment.addresses.governor, data, gas: '0x1e8480' },
      ]);
      const receipt = await chain.rpc.receiptOf<{ status: string }>(hash);
      tx[name] = { hash, status: receipt.status };
    };
    await propose('setParameterWithVersion', {
      kind: 0,
      key: nameToBytes32('quorumBps'),
      value: 5000n,
      version: 1n,
      codeHash: ZERO32,
    });
    await propose('upgradeWithValue', {
      kind: 1,
      key: nameToBytes32('core'),
      value: 1n,
      version: 2n,
      codeHash: `0x${'ab'.repeat(32)}`,
    });
  }, 60_000);
  afterAll(async () => {
    await r?.cleanup();
    await chain?.stop();
  });

  it('the contract refuses a proposal action with a non-zero unused field', () => {
    expect(tx.setParameterWithVersion?.status).toBe('0x0');
    expect(tx.upgradeWithValue?.status).toBe('0x0');
  });

  it('such a refused proposal is not a governance input: no execution fault', async () => {
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [chain.anvil.rpcUrl] }),
      redis: r.redis,
      prefix: r.prefix,
      deployment: chain.deployment,
    });
    await gi.ingester.syncTo(await chain.rpc.blockNumber());
    expect(gi.derivation.revertedAccepted).toEqual([]);
    expect(gi.faults).toEqual([]);
  });
});
