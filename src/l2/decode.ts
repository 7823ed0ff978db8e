/**
 * Decodes the governance contracts' logs into the reference model's inputs (src/governance/inputs.ts),
 * plus the operator's state commitments. Every input-producing event carries all the input needs, so no
 * calldata is fetched for accepted inputs; reverted transactions (no logs) are decoded from their calldata.
 * Logs from an unexpected address or with an unknown topic are errors the ingester counts and skips.
 */
import {
  type Abi,
  decodeEventLog,
  decodeFunctionData,
  type Hex,
  type Log,
  type Address as ViemAddress,
} from 'viem';
import type {
  Address,
  GovernanceInput,
  Hash32,
  InputPosition,
  ProposalAction,
  VoteSupport,
} from '../governance/inputs.ts';
import {
  epochManagerAbi,
  governorAbi,
  paramRegistryAbi,
  stakingAbi,
  stateCommitmentAbi,
} from './contracts/artifacts/abis.ts';
import type { GovernanceAddresses } from './governance-contracts.ts';
import { UndecodableLogError, UndecodableTxError } from './ingester.ts';
import { bytes32ToName } from './names.ts';
import { classifyRefusal, isCanonicalCall, type Refusal } from './refusal.ts';
import type { RevertedTx } from './revert-fetcher.ts';

export type StateCommitmentRecord = {
  epoch: bigint;
  stateRoot: Hash32;
  kickoffTxid: Hash32;
  operator: Address;
  position: InputPosition;
};

export type L2Entry =
  | { type: 'input'; input: GovernanceInput }
  /**
   * A transaction the contracts REVERTED naming a rule (`Rejected(rule)`), decoded from its calldata (no
   * log exists for it). `rule` is the contract's rule; journals written before it was recorded lack it.
   */
  | { type: 'reverted'; input: GovernanceInput; txHash: Hex; rule?: string }
  | { type: 'commitment'; commitment: StateCommitmentRecord };

const SUPPORT: readonly VoteSupport[] = ['against', 'for', 'abstain'];

const lower = (a: string): Address => a.toLowerCase() as Address;

/** The watched contracts by lower-case address, with the ABI their logs and calldata decode with. */
function contractsByAddress(addresses: GovernanceAddresses): Map<string, { name: string; abi: Abi }> {
  return new Map([
    [addresses.staking.toLowerCase(), { name: 'Staking', abi: stakingAbi as Abi }],
    [addresses.governor.toLowerCase(), { name: 'Governor', abi: governorAbi as Abi }],
    [addresses.epochManager.toLowerCase(), { name: 'EpochManager', abi: epochManagerAbi as Abi }],
    [addresses.stateCommitment.toLowerCase(), { name: 'StateCommitment', abi: stateCommitmentAbi as Abi }],
    [addresses.registry.toLowerCase(), { name: 'ParamRegistry', abi: paramRegistryAbi as Abi }],
  ]);
}

export type LogDecoder = (log: Log) => L2Entry[];

export function createLogDecoder(addresses: GovernanceAddresses): LogDecoder {
  const byAddress = contractsByAddress(addresses);

  return (log: Log): L2Entry[] => {
    const contract = byAddress.get(log.address.toLowerCase());
    if (!contract) throw new UndecodableLogError(`log from an unwatched address ${log.address}`);
    let decoded: { eventName: string; args: Record<string, unknown> };
    try {
      decoded = decodeEventLog({
        abi: contract.abi,
        data: log.data,
        topics: log.topics as [Hex, ...Hex[]],
        strict: true,
      }) as unknown as { eventName: string; args: Record<string, unknown> };
    } catch (cause) {
      throw new UndecodableLogError(`cannot decode a ${contract.name} log`, { cause });
    }
    const position: InputPosition = {
      block: log.blockNumber as bigint,
      txIndex: log.transactionIndex as number,
      logIndex: log.logIndex as number,
    };
    const a = decoded.args;
    const input = (i: GovernanceInput): L2Entry[] => [{ type: 'input', input: i }];
    switch (`${contract.name}.${decoded.eventName}`) {
      case 'Staking.ValidatorRegistered':
        return input({
          kind: 'registerValidator',
          position,
          sender: lower(a.validator as ViemAddress),
          commissionBps: Number(a.commissionBps),
        });
      case 'Staking.Staked':
        return input({
          kind: 'stake',
          position,
          sender: lower(a.validator as string),
          amount: a.amount as bigint,
        });
      case 'Staking.Unstaked':
        return input({
          kind: 'unstake',
          position,
          sender: lower(a.validator as string),
          amount: a.amount as bigint,
        });
      case 'Staking.Delegated':
        return input({
          kind: 'delegate',
          position,
          sender: lower(a.delegator as string),
          validator: lower(a.validator as string),
          amount: a.amount as bigint,
        });
      case 'Staking.Undelegated':
        return input({
          kind: 'undelegate',
          position,
          sender: lower(a.delegator as string),
          validator: lower(a.validator as string),
          amount: a.amount as bigint,
        });
      case 'Governor.ProposalCreated':
        return input({
          kind: 'propose',
          position,
          sender: lower(a.proposer as string),
          actions: (a.actions as readonly RawAction[]).map(toAction),
        });
      case 'Governor.VoteCast': {
        const support = SUPPORT[Number(a.support)];
        if (!support) throw new UndecodableLogError(`vote with support ${String(a.support)}`);
        return input({
          kind: 'vote',
          position,
          sender: lower(a.voter as string),
          proposalId: a.proposalId as bigint,
          support,
        });
      }
      case 'Governor.ProposalQueued':
        return input({
          kind: 'queue',
          position,
          sender: lower(a.caller as string),
          proposalId: a.proposalId as bigint,
        });
      case 'Governor.ProposalExecuted':
        return input({
          kind: 'execute',
          position,
          sender: lower(a.caller as string),
          proposalId: a.proposalId as bigint,
        });
      case 'Governor.ProposalCanceled':
        return input({
          kind: 'cancel',
          position,
          sender: lower(a.caller as string),
          proposalId: a.proposalId as bigint,
        });
      case 'EpochManager.EpochEnded':
        return input({ kind: 'endEpoch', position, sender: lower(a.caller as string) });
      case 'StateCommitment.StateCommitted':
        return [
          {
            type: 'commitment',
            commitment: {
              epoch: a.epoch as bigint,
              stateRoot: (a.stateRoot as string).toLowerCase() as Hash32,
              kickoffTxid: (a.kickoffTxid as string).toLowerCase() as Hash32,
              operator: lower(a.operator as string),
              position,
            },
          },
        ];
      // Consequences of inputs already decoded (the execute or endEpoch that caused them), not inputs
      // themselves: a rollup parameter's change is ParameterScheduled at execute, ParameterSet when the end
      // of epoch puts it in force.
      case 'ParamRegistry.ParameterSet':
      case 'ParamRegistry.ParameterScheduled':
      case 'ParamRegistry.ModuleUpgraded':
      case 'ParamRegistry.GovernorSet':
        return [];
      default:
        throw new UndecodableLogError(`unexpected event ${contract.name}.${decoded.eventName}`);
    }
  };
}

/** Turns one reverted transaction into entries ([] when its call is not a governance input). */
export type RevertedTxDecoder = (tx: RevertedTx) => L2Entry[];

/** Told of every refused call to a governance entry point, input or not (for metrics and logs). */
export type RefusalListener = (tx: RevertedTx, inputKind: GovernanceInput['kind'], refusal: Refusal) => void;

/**
 * The inverse of `inputToCall` (driver.ts) for reverted transactions: the calldata, the sender and the
 * chain position make the input the contracts refused. Only a refusal that names a governance rule makes
 * an input (refusal.ts, docs/protocol.md §1); any other refusal (the token's balance or allowance, calldata
 * the ABI decoder refused, out of gas, ...) gives [] and is reported to `onRefusal`. Calls that are not
 * inputs (views, the operator's commit, wiring) give []; calldata that decodes to no function of the
 * target's ABI throws UndecodableTxError: it cannot be an input any executor of the rules would accept.
 */
export function createRevertedTxDecoder(
  addresses: GovernanceAddresses,
  onRefusal?: RefusalListener,
): RevertedTxDecoder {
  const byAddress = contractsByAddress(addresses);

  return (tx: RevertedTx): L2Entry[] => {
    const contract = byAddress.get(tx.to.toLowerCase());
    if (!contract) throw new UndecodableTxError(`transaction to an unwatched address ${tx.to}`);
    let call: { functionName: string; args: readonly unknown[] };
    try {
      const d = decodeFunctionData({ abi: contract.abi, data: tx.input });
      call = { functionName: d.functionName, args: (d.args ?? []) as readonly unknown[] };
    } catch (cause) {
      throw new UndecodableTxError(`calldata of ${tx.hash} is no ${contract.name} function`, { cause });
    }
    const a = call.args;
    const position: InputPosition = { block: tx.block, txIndex: tx.txIndex, logIndex: 0 };
    const sender = lower(tx.from);
    const canonical = isCanonicalCall(contract.abi, tx.input, call);
    const input = (i: GovernanceInput): L2Entry[] => {
      const refusal = classifyRefusal(tx.report, canonical);
      onRefusal?.(tx, i.kind, refusal);
      if (refusal.kind !== 'governance') return [];
      return [{ type: 'reverted', input: i, txHash: tx.hash, rule: refusal.rule }];
    };
    switch (`${contract.name}.${call.functionName}`) {
      case 'Staking.registerValidator':
        return input({ kind: 'registerValidator', position, sender, commissionBps: Number(a[0]) });
      case 'Staking.stake':
        return input({ kind: 'stake', position, sender, amount: a[0] as bigint });
      case 'Staking.unstake':
        return input({ kind: 'unstake', position, sender, amount: a[0] as bigint });
      case 'Staking.delegate':
        return input({
          kind: 'delegate',
          position,
          sender,
          validator: lower(a[0] as string),
          amount: a[1] as bigint,
        });
      case 'Staking.undelegate':
        return input({
          kind: 'undelegate',
          position,
          sender,
          validator: lower(a[0] as string),
          amount: a[1] as bigint,
        });
      case 'Governor.propose':
        try {
          return input({
            kind: 'propose',
            position,
            sender,
            actions: (a[0] as readonly RawAction[]).map(toAction),
          });
        } catch (cause) {
          throw new UndecodableTxError(`proposal actions of ${tx.hash} are not model actions`, { cause });
        }
      case 'Governor.castVote': {
        const support = SUPPORT[Number(a[1])];
        if (!support) throw new UndecodableTxError(`vote with support ${String(a[1])} in ${tx.hash}`);
        return input({ kind: 'vote', position, sender, proposalId: a[0] as bigint, support });
      }
      case 'Governor.queue':
        return input({ kind: 'queue', position, sender, proposalId: a[0] as bigint });
      case 'Governor.execute':
        return input({ kind: 'execute', position, sender, proposalId: a[0] as bigint });
      case 'Governor.cancel':
        return input({ kind: 'cancel', position, sender, proposalId: a[0] as bigint });
      case 'EpochManager.endEpoch':
        return input({ kind: 'endEpoch', position, sender });
      default:
        // A refused commit, a wiring call, a view sent as a transaction: not a governance input.
        return [];
    }
  };
}

type RawAction = { kind: number; key: Hex; value: bigint; version: bigint; codeHash: Hex };

const ZERO_HASH = `0x${'0'.repeat(64)}`;

/**
 * The model's action for a raw `Action` struct. The contracts refuse a struct whose unused fields are not
 * zero (Common.sol); the model's actions have no such fields, so such a struct is no model input at all
 * (like an unknown kind) rather than a proposal the model would accept.
 */
function toAction(r: RawAction): ProposalAction {
  if (r.kind === 0) {
    if (r.version !== 0n || r.codeHash.toLowerCase() !== ZERO_HASH) {
      throw new UndecodableLogError('setParameter action with a non-zero version or code hash');
    }
    return { kind: 'setParameter', key: bytes32ToName(r.key), value: r.value };
  }
  if (r.kind === 1) {
    if (r.value !== 0n) throw new UndecodableLogError('upgradeModule action with a non-zero value');
    return {
      kind: 'upgradeModule',
      moduleId: bytes32ToName(r.key),
      version: r.version,
      codeHash: r.codeHash.toLowerCase() as Hash32,
    };
  }
  throw new UndecodableLogError(`proposal action of unknown kind ${r.kind}`);
}

export const entryKind = (e: L2Entry): string =>
  e.type === 'input' ? e.input.kind : e.type === 'reverted' ? 'reverted' : 'commitment';
