/**
 * The devnet's sequencer rules: it makes anvil's blocks obey the rollup parameters in force
 * (docs/protocol.md §2) — the block gas limit (`evm_setBlockGasLimit`) and the base fee floor
 * (`anvil_setNextBlockBaseFeePerGas` before every block while the floor is above zero) — reading them from
 * the ParamRegistry, where the end of an epoch puts pending changes in force. Two faulty sequencers break
 * the rule on purpose so the devnet can show Vigil catching an L2 that ignores its own governance:
 * `rollup-param-ignored` never applies a change, `rollup-param-early` applies a change as soon as the
 * proposal executes, an epoch too early.
 *
 * Each faulty sequencer also records where its chain first disagrees with the parameters in force, read
 * from the contracts and the mined headers: that is what Vigil, which judges with its own model, must
 * report.
 */
import {
  encodeFunctionData,
  type Hex,
  hexToBigInt,
  toFunctionSelector,
  type Address as ViemAddress,
} from 'viem';
import type { GovernanceInput } from '../governance/inputs.ts';
import { paramRegistryAbi } from './contracts/artifacts/abis.ts';
import type { AnvilRpc, BlockSequencer } from './driver.ts';
import { HEADER_PARAMS, type HeaderParam } from './header-check.ts';
import { nameToBytes32 } from './names.ts';

export const SEQUENCER_FAULTS = ['rollup-param-ignored', 'rollup-param-early'] as const;
export type SequencerFault = (typeof SEQUENCER_FAULTS)[number];
export const SEQUENCER_FAULT_DOCS: Readonly<Record<SequencerFault, string>> = {
  'rollup-param-ignored':
    'never applies a voted rollup parameter: blocks keep the genesis gas limit and base fee floor',
  'rollup-param-early': 'applies a voted rollup parameter as soon as its proposal executes, an epoch early',
};
export const isSequencerFault = (name: string): name is SequencerFault =>
  (SEQUENCER_FAULTS as readonly string[]).includes(name);

/** The first block whose header breaks a parameter in force, as the sequencer itself saw it. */
export type SequencerDeviation = { block: bigint; param: HeaderParam; inForce: bigint; observed: bigint };

type Values = Record<HeaderParam, bigint>;

const PENDING_OF = toFunctionSelector('pendingOf(bytes32)');
const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

export class RollupSequencer implements BlockSequencer {
  private inForce: Values = { l2GasLimit: 0n, minBaseFee: 0n };
  private applied: Values = { l2GasLimit: 0n, minBaseFee: 0n };
  private readonly deviations: SequencerDeviation[] = [];

  constructor(
    private readonly rpc: AnvilRpc,
    private readonly registry: ViemAddress,
    readonly fault: SequencerFault | 'none' = 'none',
  ) {}

  /** Reads the values in force and sets anvil to them (the chain starts obeying its genesis). */
  async start(): Promise<void> {
    this.inForce = await this.readInForce();
    await this.apply({ ...this.inForce });
  }

  /** Where the chain first broke each parameter, in block order (empty for an honest sequencer). */
  firstDeviations(): readonly SequencerDeviation[] {
    return this.deviations;
  }

  /** A base fee floor is only kept by setting it before each block: the EIP-1559 rule lowers it. */
  get minesOneByOne(): boolean {
    return this.applied.minBaseFee > 0n || this.mayDeviate();
  }

  async beforeBlock(): Promise<void> {
    if (this.applied.minBaseFee > 0n) await this.setNextBaseFeeFloor();
  }

  async afterBlock(block: bigint, inputs: readonly GovernanceInput[], otherTxs: number): Promise<void> {
    if (this.mayDeviate()) await this.recordDeviations(block);
    // Only an endEpoch (or, for the early sequencer, an execute) changes what it applies; a transaction
    // the driver cannot read (a scenario's raw one) might be either.
    const ended = otherTxs > 0 || inputs.some((i) => i.kind === 'endEpoch');
    const executed = otherTxs > 0 || inputs.some((i) => i.kind === 'execute');
    if (!ended && !(executed && this.fault === 'rollup-param-early')) return;
    this.inForce = await this.readInForce();
    if (this.fault === 'rollup-param-ignored') return;
    const next = { ...this.inForce };
    if (this.fault === 'rollup-param-early') {
      for (const p of HEADER_PARAMS) {
        const pending = await this.readPending(p);
        if (pending !== undefined) next[p] = pending;
      }
    }
    await this.apply(next);
  }

  private mayDeviate(): boolean {
    return (
      this.fault !== 'none' &&
      HEADER_PARAMS.some(
        (p) => this.applied[p] !== this.inForce[p] && !this.deviations.some((d) => d.param === p),
      )
    );
  }

  private async recordDeviations(block: bigint): Promise<void> {
    const header = await this.rpc.request<{ gasLimit: Hex; baseFeePerGas?: Hex }>('eth_getBlockByNumber', [
      hex(block),
      false,
    ]);
    const gasLimit = hexToBigInt(header.gasLimit);
    const baseFee = header.baseFeePerGas === undefined ? 0n : hexToBigInt(header.baseFeePerGas);
    const seen = new Set(this.deviations.map((d) => d.param));
    if (!seen.has('l2GasLimit') && gasLimit !== this.inForce.l2GasLimit)
      this.deviations.push({
        block,
        param: 'l2GasLimit',
        inForce: this.inForce.l2GasLimit,
        observed: gasLimit,
      });
    if (!seen.has('minBaseFee') && baseFee < this.inForce.minBaseFee)
      this.deviations.push({
        block,
        param: 'minBaseFee',
        inForce: this.inForce.minBaseFee,
        observed: baseFee,
      });
  }

  private async apply(next: Values): Promise<void> {
    if (next.l2GasLimit !== this.applied.l2GasLimit)
      await this.rpc.request('evm_setBlockGasLimit', [hex(next.l2GasLimit)]);
    this.applied = next;
  }

  private async setNextBaseFeeFloor(): Promise<void> {
    await this.rpc.request('anvil_setNextBlockBaseFeePerGas', [hex(this.applied.minBaseFee)]);
  }

  private async readInForce(): Promise<Values> {
    const [l2GasLimit, minBaseFee] = await Promise.all(HEADER_PARAMS.map((p) => this.readParam(p)));
    return { l2GasLimit: l2GasLimit as bigint, minBaseFee: minBaseFee as bigint };
  }

  private async readParam(key: HeaderParam): Promise<bigint> {
    const data = encodeFunctionData({
      abi: paramRegistryAbi,
      functionName: 'get',
      args: [nameToBytes32(key)],
    });
    return hexToBigInt(await this.call(data));
  }

  /** The pending value of a rollup parameter, or undefined when none is pending. */
  private async readPending(key: HeaderParam): Promise<bigint | undefined> {
    const out = await this.call(`${PENDING_OF}${nameToBytes32(key).slice(2)}` as Hex);
    const value = hexToBigInt(`0x${out.slice(2, 66)}`);
    const activationEpoch = hexToBigInt(`0x${out.slice(66, 130)}`);
    return activationEpoch === 0n ? undefined : value;
  }

  private async call(data: Hex): Promise<Hex> {
    return this.rpc.request<Hex>('eth_call', [{ to: this.registry, data }, 'latest']);
  }
}
