/**
 * Replays a governance workload (model inputs with positions) as real transactions on anvil: each input's
 * block is reproduced (relative to an offset), inputs of one block are sent in order with automine off and
 * mined together, so the chain sees the same blocks and order the model was generated with. Senders are
 * impersonated (anvil_autoImpersonateAccount), funded with ether and BTR, and approve Staking once.
 */
import { encodeFunctionData, type Hex, type Address as ViemAddress } from 'viem';
import { VigilError } from '../core/errors.ts';
import type { GovernanceInput, ProposalAction } from '../governance/inputs.ts';
import { VOTE_SUPPORT_CODE } from '../governance/inputs.ts';
import { btrTokenAbi, epochManagerAbi, governorAbi, stakingAbi } from './contracts/artifacts/abis.ts';
import type { GovernanceAddresses } from './deploy.ts';
import { nameToBytes32 } from './names.ts';

export class DriverError extends VigilError {
  override name = 'DriverError';
}

/** A tiny JSON-RPC client for anvil's test methods (the devnet's own edge; ingestion uses L2Rpc). */
export class AnvilRpc {
  private id = 0;
  constructor(readonly url: string) {}

  async request<T>(method: string, params: readonly unknown[] = []): Promise<T> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
    });
    const body = (await res.json()) as { result?: T; error?: { message: string; code: number } };
    if (body.error)
      throw new DriverError(`${method} failed: ${body.error.message}`, { details: String(body.error.code) });
    return body.result as T;
  }

  async blockNumber(): Promise<bigint> {
    return BigInt(await this.request<string>('eth_blockNumber'));
  }

  /** Mines `count` empty-or-pending blocks. */
  async mine(count = 1): Promise<void> {
    if (count <= 0) return;
    await this.request('anvil_mine', [`0x${count.toString(16)}`]);
  }
}

const TX_GAS = 15_000_000n;
const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

/** The calldata and target of one input. */
export function inputToCall(a: GovernanceAddresses, input: GovernanceInput): { to: ViemAddress; data: Hex } {
  switch (input.kind) {
    case 'registerValidator':
      return {
        to: a.staking,
        data: encodeFunctionData({
          abi: stakingAbi,
          functionName: 'registerValidator',
          args: [input.commissionBps],
        }),
      };
    case 'stake':
      return {
        to: a.staking,
        data: encodeFunctionData({ abi: stakingAbi, functionName: 'stake', args: [input.amount] }),
      };
    case 'unstake':
      return {
        to: a.staking,
        data: encodeFunctionData({ abi: stakingAbi, functionName: 'unstake', args: [input.amount] }),
      };
    case 'delegate':
      return {
        to: a.staking,
        data: encodeFunctionData({
          abi: stakingAbi,
          functionName: 'delegate',
          args: [input.validator, input.amount],
        }),
      };
    case 'undelegate':
      return {
        to: a.staking,
        data: encodeFunctionData({
          abi: stakingAbi,
          functionName: 'undelegate',
          args: [input.validator, input.amount],
        }),
      };
    case 'propose':
      return {
        to: a.governor,
        data: encodeFunctionData({
          abi: governorAbi,
          functionName: 'propose',
          args: [input.actions.map(toRawAction)],
        }),
      };
    case 'vote':
      return {
        to: a.governor,
        data: encodeFunctionData({
          abi: governorAbi,
          functionName: 'castVote',
          args: [input.proposalId, VOTE_SUPPORT_CODE[input.support]],
        }),
      };
    case 'queue':
      return {
        to: a.governor,
        data: encodeFunctionData({ abi: governorAbi, functionName: 'queue', args: [input.proposalId] }),
      };
    case 'execute':
      return {
        to: a.governor,
        data: encodeFunctionData({ abi: governorAbi, functionName: 'execute', args: [input.proposalId] }),
      };
    case 'cancel':
      return {
        to: a.governor,
        data: encodeFunctionData({ abi: governorAbi, functionName: 'cancel', args: [input.proposalId] }),
      };
    case 'endEpoch':
      return {
        to: a.epochManager,
        data: encodeFunctionData({ abi: epochManagerAbi, functionName: 'endEpoch' }),
      };
  }
}

function toRawAction(action: ProposalAction) {
  if (action.kind === 'setParameter') {
    return {
      kind: 0,
      key: nameToBytes32(action.key),
      value: action.value,
      version: 0n,
      codeHash: `0x${'0'.repeat(64)}` as Hex,
    };
  }
  return {
    kind: 1,
    key: nameToBytes32(action.moduleId),
    value: 0n,
    version: action.version,
    codeHash: action.codeHash,
  };
}

export type ReplayProgress = { inputIndex: number; chainBlock: bigint; sent: number };

export type ReplayResult = {
  /** Chain block = workload block + offset. */
  offset: bigint;
  sent: number;
  /** Transactions that reverted: each is an input the model accepted and the contracts refused. */
  reverted: { input: GovernanceInput; txHash: Hex }[];
  lastBlock: bigint;
};

export class WorkloadDriver {
  private readonly funded = new Set<string>();

  constructor(
    readonly rpc: AnvilRpc,
    readonly addresses: GovernanceAddresses,
    readonly deployer: ViemAddress,
  ) {}

  /** Funds and approves every address that appears as a sender. Mines its own blocks. */
  async prepareSenders(senders: Iterable<string>): Promise<void> {
    await this.rpc.request('anvil_autoImpersonateAccount', [true]);
    const fresh = [...new Set(senders)].filter((s) => !this.funded.has(s));
    if (fresh.length === 0) return;
    await this.rpc.request('evm_setAutomine', [false]);
    for (const s of fresh) {
      await this.rpc.request('anvil_setBalance', [s, hex(10n ** 24n)]);
      await this.send(
        this.deployer,
        this.addresses.token,
        encodeFunctionData({
          abi: btrTokenAbi,
          functionName: 'mint',
          args: [s as ViemAddress, 10n ** 40n],
        }),
      );
      await this.send(
        s as ViemAddress,
        this.addresses.token,
        encodeFunctionData({
          abi: btrTokenAbi,
          functionName: 'approve',
          args: [this.addresses.staking, (1n << 256n) - 1n],
        }),
      );
      this.funded.add(s);
    }
    await this.rpc.mine(1);
  }

  private async send(from: ViemAddress, to: ViemAddress, data: Hex): Promise<Hex> {
    return this.rpc.request<Hex>('eth_sendTransaction', [{ from, to, data, gas: hex(TX_GAS) }]);
  }

  /**
   * Sends every input at block `offset + input.position.block`, mining empty blocks in between.
   * `offset` defaults to "the next block is the workload's first block".
   */
  async replay(
    inputs: readonly GovernanceInput[],
    options: {
      offset?: bigint;
      checkReceipts?: boolean;
      onBlock?: (block: bigint, inputs: GovernanceInput[]) => Promise<void>;
    } = {},
  ): Promise<ReplayResult> {
    await this.prepareSenders(inputs.map((i) => i.sender));
    await this.rpc.request('evm_setAutomine', [false]);
    const head = await this.rpc.blockNumber();
    const first = inputs[0]?.position.block ?? 1n;
    const offset = options.offset ?? head + 1n - first;
    const reverted: ReplayResult['reverted'] = [];
    let sent = 0;
    let i = 0;
    let lastBlock = head;
    while (i < inputs.length) {
      const block = (inputs[i] as GovernanceInput).position.block;
      const group: GovernanceInput[] = [];
      while (i < inputs.length && (inputs[i] as GovernanceInput).position.block === block)
        group.push(inputs[i++] as GovernanceInput);
      const target = block + offset;
      const current = lastBlock;
      if (target <= current)
        throw new DriverError(`workload block ${block} is already past (chain at ${current})`);
      await this.rpc.mine(Number(target - current - 1n));
      const hashes: Hex[] = [];
      for (const input of group) {
        const { to, data } = inputToCall(this.addresses, input);
        hashes.push(await this.send(input.sender as ViemAddress, to, data));
        sent++;
      }
      await this.rpc.mine(1);
      lastBlock = target;
      if (options.checkReceipts) {
        for (let k = 0; k < hashes.length; k++) {
          const r = await this.rpc.request<{ status: Hex; blockNumber: Hex }>('eth_getTransactionReceipt', [
            hashes[k],
          ]);
          if (BigInt(r.blockNumber) !== target)
            throw new DriverError(`tx ${hashes[k]} landed in block ${BigInt(r.blockNumber)}, not ${target}`);
          if (r.status !== '0x1')
            reverted.push({ input: group[k] as GovernanceInput, txHash: hashes[k] as Hex });
        }
      }
      if (options.onBlock) await options.onBlock(target, group);
    }
    return { offset, sent, reverted, lastBlock };
  }
}
