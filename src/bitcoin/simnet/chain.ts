/**
 * simnet's chain: blocks, the UTXO set with undo data, a mempool with Core's acceptance rules
 * (RBF, ancestor limits, fees, timelocks, maturity), ancestor-feerate mining (CPFP), and reorgs by
 * invalidating blocks. Every transaction's scripts run through the injected verifier (the project's
 * interpreter), with standard flags first and consensus flags to tell Core's two script reasons apart.
 *
 * `SimChain` is the face the fronts and tests use: the queries are here; the state and block
 * (dis)connection are in `chain-state.ts`, mempool acceptance in `acceptance.ts`, mining in
 * `mining.ts`, reorgs in `reorg.ts`, the shared types in `types.ts`.
 */
import { bytesToHex } from '../../core/bytes.ts';
import { hash256 } from '../../core/hashes.ts';
import { decodeTx } from '../codec/codec.ts';
import type { FeeRate } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import { acceptTransaction, type TestAcceptOutcome, testAccept } from './acceptance.ts';
import { type ChainListener, ChainState } from './chain-state.ts';
import { hexOf, type Mempool, type MempoolEntry, outpointKey } from './mempool.ts';
import { mineBlock, restoreBlock } from './mining.ts';
import { invalidateBlock, reconsiderBlock } from './reorg.ts';
import type { SpentCoin } from './rules.ts';
import {
  type AcceptOptions,
  type AcceptResult,
  type ChainBlock,
  SimChainError,
  type SimChainOptions,
  type Spend,
} from './types.ts';

export type { ChainListener } from './chain-state.ts';

export class SimChain {
  private readonly state: ChainState;
  readonly mempool: Mempool;
  /** What estimatesmartfee and /fee-estimates answer; undefined = a quiet chain with no estimate. */
  feeEstimate: FeeRate | undefined;

  constructor(options: SimChainOptions = {}) {
    this.state = new ChainState(options);
    this.mempool = this.state.mempool;
  }

  get standardness(): boolean {
    return this.state.options.standardness;
  }

  set standardness(on: boolean) {
    this.state.options.standardness = on;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  get tip(): ChainBlock {
    return this.state.tip;
  }

  get height(): number {
    return this.state.height;
  }

  blockAt(height: number): ChainBlock | undefined {
    return this.state.active[height];
  }

  blockByHash(hash: string): ChainBlock | undefined {
    return this.state.blocks.get(hash);
  }

  isActive(block: ChainBlock): boolean {
    return this.state.isActive(block);
  }

  confirmations(block: ChainBlock): number {
    return this.isActive(block) ? this.height - block.height + 1 : -1;
  }

  /** Median of the last 11 block times ending at `height` (GetMedianTimePast). */
  medianTimePast(height: number = this.height): number {
    return this.state.medianTimePast(height);
  }

  /** A transaction in the active chain or the mempool. */
  findTx(txid: string): { tx: Tx; raw: Uint8Array; block: ChainBlock | undefined } | undefined {
    const m = this.mempool.get(txid);
    if (m) return { tx: m.tx, raw: m.raw, block: undefined };
    const at = this.state.txIndex.get(txid);
    if (!at) return undefined;
    const block = this.state.blocks.get(at.blockHash) as ChainBlock;
    const t = block.txs[at.index] as ChainBlock['txs'][number];
    return { tx: t.tx, raw: t.raw, block };
  }

  /** Confirmed, unspent output (gettxout without the mempool). */
  confirmedCoin(txid: string, vout: number): SpentCoin | undefined {
    return this.state.utxos.get(outpointKey(txid, vout));
  }

  /** gettxout with include_mempool: unspent in chain and mempool, or created by the mempool. */
  unspentCoin(txid: string, vout: number): SpentCoin | undefined {
    const key = outpointKey(txid, vout);
    if (this.mempool.spenders.has(key)) return undefined;
    const c = this.state.utxos.get(key);
    if (c) return c;
    const e = this.mempool.get(txid);
    const out = e?.tx.outputs[vout];
    if (!e || !out) return undefined;
    return { value: out.value, script: out.script, height: this.height + 1, coinbase: false };
  }

  /** Who spends an outpoint: the mempool first, then the active chain. */
  spenderOf(txid: string, vout: number): Spend | undefined {
    const key = outpointKey(txid, vout);
    const m = this.mempool.spenders.get(key);
    if (m !== undefined) {
      const e = this.mempool.get(m) as MempoolEntry;
      const vin = e.tx.inputs.findIndex((i) => i.vout === vout && hexOf(i.prevTxid) === txid);
      return { txid: m, vin, blockHash: undefined };
    }
    return this.state.spentIndex.get(key);
  }

  /** Outputs paying `script`: confirmed ones, and with `mempool` the mempool's view (Esplora's). */
  utxosForScript(
    script: Uint8Array,
    mempool: boolean,
  ): { txid: string; vout: number; value: bigint; height: number | undefined }[] {
    const hex = bytesToHex(script);
    const out: { txid: string; vout: number; value: bigint; height: number | undefined }[] = [];
    for (const [key, coin] of this.state.utxos) {
      if (bytesToHex(coin.script) !== hex) continue;
      if (mempool && this.mempool.spenders.has(key)) continue;
      const [txid, vout] = key.split(':') as [string, string];
      out.push({ txid, vout: Number(vout), value: coin.value, height: coin.height });
    }
    if (mempool) {
      for (const e of this.mempool.entries.values()) {
        e.tx.outputs.forEach((o, vout) => {
          if (bytesToHex(o.script) !== hex || this.mempool.spenders.has(outpointKey(e.txid, vout))) return;
          out.push({ txid: e.txid, vout, value: o.value, height: undefined });
        });
      }
    }
    return out;
  }

  /** The UTXO set in summary (gettxoutsetinfo's spirit): count, total value and a digest of its contents. */
  utxoSetInfo(): { count: number; total: bigint; digest: string } {
    const keys = [...this.state.utxos.keys()].sort();
    const parts: string[] = [];
    let total = 0n;
    for (const k of keys) {
      const c = this.state.utxos.get(k) as SpentCoin;
      total += c.value;
      parts.push(`${k}=${c.value}/${bytesToHex(c.script)}/${c.height}/${c.coinbase ? 1 : 0}`);
    }
    return {
      count: keys.length,
      total,
      digest: bytesToHex(hash256(new TextEncoder().encode(parts.join('\n')))),
    };
  }

  /** Mempool txids by descending ancestor feerate, as a miner would take them. */
  mempoolByFeerate(): string[] {
    return [...this.mempool.entries.values()]
      .map((e) => ({ e, rate: Number(e.fee) / e.vsize }))
      .sort((a, b) => b.rate - a.rate || a.e.sequence - b.e.sequence)
      .map((x) => x.e.txid);
  }

  ancestorStats(txid: string): { count: number; size: number; fees: bigint } {
    return this.packageStats(this.mempool.ancestors(txid, true));
  }

  descendantStats(txid: string): { count: number; size: number; fees: bigint } {
    return this.packageStats(this.mempool.descendants(txid, true));
  }

  private packageStats(ids: ReadonlySet<string>): { count: number; size: number; fees: bigint } {
    let size = 0;
    let fees = 0n;
    for (const id of ids) {
      const e = this.mempool.get(id) as MempoolEntry;
      size += e.vsize;
      fees += e.fee;
    }
    return { count: ids.size, size, fees };
  }

  // ---------------------------------------------------------------------------------------------
  // Mempool acceptance (acceptance.ts)

  accept(raw: Uint8Array, options: AcceptOptions = {}): AcceptResult {
    let tx: Tx;
    try {
      tx = decodeTx(raw);
    } catch (err) {
      throw new SimChainError('TX decode failed', { cause: err });
    }
    return this.acceptTx(tx, options);
  }

  acceptTx(tx: Tx, options: AcceptOptions = {}): AcceptResult {
    return acceptTransaction(this.state, tx, options);
  }

  /** testmempoolaccept: up to 25 transactions, each seen by the next, nothing kept. */
  testAccept(raws: Uint8Array[], maxFeeRate?: FeeRate): TestAcceptOutcome[] {
    return testAccept(this.state, raws, maxFeeRate);
  }

  // ---------------------------------------------------------------------------------------------
  // Mining (mining.ts)

  /**
   * Mines one block on the tip paying `payoutScript`. Without `txs`, takes mempool packages by
   * ancestor feerate (CPFP), as BlockAssembler::addPackageTxs; with `txs` (generateblock), exactly
   * those, validated against the chain with consensus rules.
   */
  mine(payoutScript: Uint8Array, txs?: Tx[]): ChainBlock {
    return mineBlock(this.state, payoutScript, txs);
  }

  /**
   * Connects a block recorded earlier (its raw bytes) on the tip, unchanged: same header, time and
   * hash, checked as ConnectBlock would (parent is the tip, proof of work, merkle root, witness
   * commitment, BIP-34 height, coinbase amount, every transaction's consensus rules and scripts).
   * A block that fails any check is refused with a SimChainError naming Core's reason.
   */
  restoreBlock(raw: Uint8Array): ChainBlock {
    return restoreBlock(this.state, raw);
  }

  /**
   * Follows every block connected to or disconnected from the active chain (mining, restore,
   * reorgs), after the change; returns the function that stops following.
   */
  subscribe(listener: ChainListener): () => void {
    this.state.listeners.add(listener);
    return () => {
      this.state.listeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Reorgs (reorg.ts)

  /** invalidateblock: the block and its descendants become invalid; the best valid chain becomes active. */
  invalidateBlock(hash: string): void {
    invalidateBlock(this.state, hash);
  }

  /** reconsiderblock: forget the invalidity of the block and its ancestors; reorg to the best chain. */
  reconsiderBlock(hash: string): void {
    reconsiderBlock(this.state, hash);
  }
}
