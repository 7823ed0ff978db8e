/**
 * Replays a governance workload (model inputs with positions) as real transactions on anvil: each input's
 * block is reproduced (relative to an offset), inputs of one block are sent in order with automine off and
 * mined together, so the chain sees the same blocks and order the model was generated with. Senders are
 * impersonated (anvil_autoImpersonateAccount), funded with ether and BTR, and approve Staking once.
 */
import {
  type Abi,
  encodeFunctionData,
  getAbiItem,
  type Hex,
  toFunctionSelector,
  type Address as ViemAddress,
} from 'viem';
import { VigilError } from '../core/errors.ts';
import type { Address, GovernanceInput, ProposalAction } from '../governance/inputs.ts';
import { VOTE_SUPPORT_CODE } from '../governance/inputs.ts';
import type { RawTransaction, SenderFunding } from '../governance/inputs-file.ts';
import { btrTokenAbi, epochManagerAbi, governorAbi, stakingAbi } from './contracts/artifacts/abis.ts';
import type { GovernanceAddresses } from './governance-contracts.ts';
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

  /**
   * The receipt of a transaction anvil automines: eth_sendTransaction may answer before the block is
   * sealed (a busy machine shows it), so the receipt is asked for until it exists, for up to `timeoutMs`.
   */
  async receiptOf<T>(hash: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.request<T | null>('eth_getTransactionReceipt', [hash]);
      if (r !== null) return r;
      if (Date.now() > deadline) throw new DriverError(`no receipt for ${hash} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Mines `count` empty-or-pending blocks. */
  async mine(count = 1): Promise<void> {
    if (count <= 0) return;
    await this.request('anvil_mine', [`0x${count.toString(16)}`]);
  }
}

const TX_GAS = 15_000_000n;
const DEFAULT_BALANCE = 10n ** 40n;
const UNLIMITED = (1n << 256n) - 1n;
const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

/**
 * The calldata and target of one input, ABI-encoded word by word: for values inside their ABI types it is
 * byte for byte what `encodeFunctionData` gives (a test checks it); a value outside its type (a
 * commissionBps of 65536, a module version of 2^64, a negative number) is written as its 256-bit two's
 * complement word, as any user can send it, so the chain reverts it instead of the devnet crashing.
 */
export function inputToCall(a: GovernanceAddresses, input: GovernanceInput): { to: ViemAddress; data: Hex } {
  switch (input.kind) {
    case 'registerValidator':
      return { to: a.staking, data: call(SELECTORS.registerValidator, [word(BigInt(input.commissionBps))]) };
    case 'stake':
      return { to: a.staking, data: call(SELECTORS.stake, [word(input.amount)]) };
    case 'unstake':
      return { to: a.staking, data: call(SELECTORS.unstake, [word(input.amount)]) };
    case 'delegate':
      return {
        to: a.staking,
        data: call(SELECTORS.delegate, [word(BigInt(input.validator)), word(input.amount)]),
      };
    case 'undelegate':
      return {
        to: a.staking,
        data: call(SELECTORS.undelegate, [word(BigInt(input.validator)), word(input.amount)]),
      };
    case 'propose':
      return {
        to: a.governor,
        data: call(SELECTORS.propose, [
          word(32n),
          word(BigInt(input.actions.length)),
          ...input.actions.flatMap(actionWords),
        ]),
      };
    case 'vote':
      return {
        to: a.governor,
        data: call(SELECTORS.castVote, [
          word(input.proposalId),
          word(BigInt(VOTE_SUPPORT_CODE[input.support])),
        ]),
      };
    case 'queue':
      return { to: a.governor, data: call(SELECTORS.queue, [word(input.proposalId)]) };
    case 'execute':
      return { to: a.governor, data: call(SELECTORS.execute, [word(input.proposalId)]) };
    case 'cancel':
      return { to: a.governor, data: call(SELECTORS.cancel, [word(input.proposalId)]) };
    case 'endEpoch':
      return { to: a.epochManager, data: call(SELECTORS.endEpoch, []) };
  }
}

const selectorOf = (abi: Abi, name: string): Hex => {
  const item = getAbiItem({ abi, name });
  if (item?.type !== 'function') throw new DriverError(`no function ${name} in the ABI`);
  return toFunctionSelector(item);
};

const SELECTORS = {
  registerValidator: selectorOf(stakingAbi as Abi, 'registerValidator'),
  stake: selectorOf(stakingAbi as Abi, 'stake'),
  unstake: selectorOf(stakingAbi as Abi, 'unstake'),
  delegate: selectorOf(stakingAbi as Abi, 'delegate'),
  undelegate: selectorOf(stakingAbi as Abi, 'undelegate'),
  propose: selectorOf(governorAbi as Abi, 'propose'),
  castVote: selectorOf(governorAbi as Abi, 'castVote'),
  queue: selectorOf(governorAbi as Abi, 'queue'),
  execute: selectorOf(governorAbi as Abi, 'execute'),
  cancel: selectorOf(governorAbi as Abi, 'cancel'),
  endEpoch: selectorOf(epochManagerAbi as Abi, 'endEpoch'),
} as const;

const WORD = 1n << 256n;

/** One 32-byte ABI word: the value modulo 2^256 (two's complement for a negative one). */
function word(v: bigint): string {
  return (((v % WORD) + WORD) % WORD).toString(16).padStart(64, '0');
}

const call = (selector: Hex, words: readonly string[]): Hex => `${selector}${words.join('')}` as Hex;

const ZERO_WORD = '0'.repeat(64);

/** The five static words of one `Action` struct (Common.sol). */
function actionWords(action: ProposalAction): string[] {
  if (action.kind === 'setParameter') {
    return [word(0n), nameToBytes32(action.key).slice(2), word(action.value), ZERO_WORD, ZERO_WORD];
  }
  return [
    word(1n),
    nameToBytes32(action.moduleId).slice(2),
    ZERO_WORD,
    word(action.version),
    action.codeHash.slice(2).padStart(64, '0'),
  ];
}

/**
 * The sequencer's block rules (the rollup parameters a header shows): asked before each block the driver
 * mines and told after it, with the block's inputs. When `minesOneByOne` is false, runs of empty blocks
 * are mined in one call without asking.
 */
export type BlockSequencer = {
  readonly minesOneByOne: boolean;
  beforeBlock(): Promise<void>;
  /** `otherTxs`: transactions of the block that are no workload input (a scenario's raw ones). */
  afterBlock(block: bigint, inputs: readonly GovernanceInput[], otherTxs: number): Promise<void>;
};

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

  /**
   * Funds and approves every address that appears as a sender (10^40 BTR and an unlimited allowance unless
   * `funding` says otherwise). Mines its own blocks.
   */
  async prepareSenders(
    senders: Iterable<string>,
    funding?: SenderFunding,
    sequencer?: BlockSequencer,
  ): Promise<void> {
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
          args: [s as ViemAddress, funding?.get(s as Address)?.balance ?? DEFAULT_BALANCE],
        }),
      );
      await this.send(
        s as ViemAddress,
        this.addresses.token,
        encodeFunctionData({
          abi: btrTokenAbi,
          functionName: 'approve',
          args: [this.addresses.staking, funding?.get(s as Address)?.allowance ?? UNLIMITED],
        }),
      );
      this.funded.add(s);
    }
    await this.mineOne(sequencer, []);
  }

  /** Mines one block under the sequencer's rules (the block's transactions are already sent). */
  private async mineOne(
    sequencer: BlockSequencer | undefined,
    inputs: readonly GovernanceInput[],
  ): Promise<bigint> {
    await sequencer?.beforeBlock();
    await this.rpc.mine(1);
    const block = await this.rpc.blockNumber();
    await sequencer?.afterBlock(block, inputs, 0);
    return block;
  }

  /** Mines `count` empty blocks, one at a time when the sequencer has to see each. */
  private async mineEmpty(count: bigint, sequencer: BlockSequencer | undefined): Promise<void> {
    if (count <= 0n) return;
    if (!sequencer?.minesOneByOne) {
      await this.rpc.mine(Number(count));
      return;
    }
    for (let i = 0n; i < count; i++) await this.mineOne(sequencer, []);
  }

  private async send(from: ViemAddress, to: ViemAddress, data: Hex, gas = TX_GAS): Promise<Hex> {
    return this.rpc.request<Hex>('eth_sendTransaction', [{ from, to, data, gas: hex(gas) }]);
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
      funding?: SenderFunding;
      /** Transactions sent as given after the inputs of their (workload) block. */
      raw?: readonly RawTransaction[];
      /** The senders were funded already (a resumed workload): mine nothing before the first input. */
      prepared?: boolean;
      /** Makes every mined block obey the rollup parameters in force (the devnet's sequencer). */
      sequencer?: BlockSequencer;
    } = {},
  ): Promise<ReplayResult> {
    const raw = options.raw ?? [];
    if (options.prepared) await this.rpc.request('anvil_autoImpersonateAccount', [true]);
    else
      await this.prepareSenders(
        [...inputs.map((i) => i.sender), ...raw.map((t) => t.sender)],
        options.funding,
        options.sequencer,
      );
    await this.rpc.request('evm_setAutomine', [false]);
    const head = await this.rpc.blockNumber();
    const blocks = [...new Set([...inputs.map((i) => i.position.block), ...raw.map((t) => t.block)])].sort(
      (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    );
    const first = blocks[0] ?? 1n;
    const offset = options.offset ?? head + 1n - first;
    const reverted: ReplayResult['reverted'] = [];
    let sent = 0;
    let i = 0;
    let lastBlock = head;
    for (const block of blocks) {
      const group: GovernanceInput[] = [];
      while (i < inputs.length && (inputs[i] as GovernanceInput).position.block === block)
        group.push(inputs[i++] as GovernanceInput);
      const target = block + offset;
      const current = lastBlock;
      if (target <= current)
        throw new DriverError(`workload block ${block} is already past (chain at ${current})`);
      await this.mineEmpty(target - current - 1n, options.sequencer);
      // The base fee floor is set before the block's transactions are sent, so they are priced for it.
      await options.sequencer?.beforeBlock();
      const hashes: Hex[] = [];
      for (const input of group) {
        const { to, data } = inputToCall(this.addresses, input);
        hashes.push(await this.send(input.sender as ViemAddress, to, data));
        sent++;
      }
      let rawSent = 0;
      for (const t of raw) {
        if (t.block !== block) continue;
        await this.send(t.sender as ViemAddress, this.addresses[t.to], t.data, t.gas);
        sent++;
        rawSent++;
      }
      await this.rpc.mine(1);
      await options.sequencer?.afterBlock(target, group, rawSent);
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
