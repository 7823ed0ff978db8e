/**
 * The devnet driver encodes calldata word by word so that any value a user can send goes out: for values
 * inside their ABI types it must be byte for byte viem's encoding, outside them the 256-bit word.
 */
import { encodeFunctionData, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import type { GovernanceInput } from '../../src/governance/inputs.ts';
import { VOTE_SUPPORT_CODE } from '../../src/governance/inputs.ts';
import { generateWorkload } from '../../src/governance/workload.ts';
import { epochManagerAbi, governorAbi, stakingAbi } from '../../src/l2/contracts/artifacts/abis.ts';
import { inputToCall } from '../../src/l2/driver.ts';
import type { GovernanceAddresses } from '../../src/l2/governance-contracts.ts';
import { nameToBytes32 } from '../../src/l2/names.ts';

const A: GovernanceAddresses = {
  token: '0x0000000000000000000000000000000000000001',
  registry: '0x0000000000000000000000000000000000000002',
  staking: '0x0000000000000000000000000000000000000003',
  governor: '0x0000000000000000000000000000000000000004',
  epochManager: '0x0000000000000000000000000000000000000005',
  stateCommitment: '0x0000000000000000000000000000000000000006',
};

/** The reference: viem's encoder, for in-range values. */
function viemCall(i: GovernanceInput): Hex {
  switch (i.kind) {
    case 'registerValidator':
      return encodeFunctionData({
        abi: stakingAbi,
        functionName: 'registerValidator',
        args: [i.commissionBps],
      });
    case 'stake':
    case 'unstake':
      return encodeFunctionData({ abi: stakingAbi, functionName: i.kind, args: [i.amount] });
    case 'delegate':
    case 'undelegate':
      return encodeFunctionData({ abi: stakingAbi, functionName: i.kind, args: [i.validator, i.amount] });
    case 'propose':
      return encodeFunctionData({
        abi: governorAbi,
        functionName: 'propose',
        args: [
          i.actions.map((a) =>
            a.kind === 'setParameter'
              ? {
                  kind: 0,
                  key: nameToBytes32(a.key),
                  value: a.value,
                  version: 0n,
                  codeHash: `0x${'0'.repeat(64)}` as Hex,
                }
              : {
                  kind: 1,
                  key: nameToBytes32(a.moduleId),
                  value: 0n,
                  version: a.version,
                  codeHash: a.codeHash,
                },
          ),
        ],
      });
    case 'vote':
      return encodeFunctionData({
        abi: governorAbi,
        functionName: 'castVote',
        args: [i.proposalId, VOTE_SUPPORT_CODE[i.support]],
      });
    case 'queue':
    case 'execute':
    case 'cancel':
      return encodeFunctionData({ abi: governorAbi, functionName: i.kind, args: [i.proposalId] });
    case 'endEpoch':
      return encodeFunctionData({ abi: epochManagerAbi, functionName: 'endEpoch' });
  }
}

describe('inputToCall', () => {
  it('is viem’s encoding for every input of random workloads', () => {
    const kinds = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5]) {
      const w = generateWorkload({ seed, inputs: 300, epochLength: 20, rejected: 0.1 });
      for (const input of w.inputs) {
        expect(inputToCall(A, input).data).toBe(viemCall(input));
        kinds.add(input.kind);
      }
    }
    expect(kinds.size).toBe(11);
  });

  it('writes a value outside its ABI type as its 256-bit word instead of throwing', () => {
    const at = { block: 1n, txIndex: 0, logIndex: 0 };
    const sender = '0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1' as const;
    const high = inputToCall(A, { kind: 'registerValidator', sender, position: at, commissionBps: 65536 });
    expect(high.data.slice(10)).toBe((65536).toString(16).padStart(64, '0'));
    const negative = inputToCall(A, { kind: 'registerValidator', sender, position: at, commissionBps: -1 });
    expect(negative.data.slice(10)).toBe('f'.repeat(64));
    const version = inputToCall(A, {
      kind: 'propose',
      sender,
      position: at,
      actions: [
        { kind: 'upgradeModule', moduleId: 'm', version: 1n << 64n, codeHash: `0x${'22'.repeat(32)}` },
      ],
    });
    // selector, offset, length, then the action's five words: the version is the fourth.
    expect(version.data.slice(10 + 64 * 5, 10 + 64 * 6)).toBe((1n << 64n).toString(16).padStart(64, '0'));
  });
});
