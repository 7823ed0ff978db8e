/**
 * simnet's chain: blocks, the UTXO set with undo data, a mempool with Core's acceptance rules
 * (RBF, ancestor limits, fees, timelocks, maturity), ancestor-feerate mining (CPFP), and reorgs by
 * invalidating blocks. Every transaction's scripts run through the injected verifier (the project's
 * interpreter), with standard flags first and consensus flags to tell Core's two script reasons apart.
 */
import { bytesToHex } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { hash256 } from '../../core/hashes.ts';
import {
  decodeTx,
  encodeTx,
  hashToHex,
  isCoinbase,
  txidBytes,
  txidHex,
  txWeight,
  wtxidBytes,
} from '../backends/codec.ts';
import { type FeeRate, feeForVsize, feeRateOf } from '../backends/fee-rate.ts';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../script/flags.ts';
import { verifyScript } from '../script/verify.ts';
import { checkPolicy, isStandardTx } from '../tx/policy.ts';
import type { Prevout, Tx } from '../tx/types.ts';
import {
  blockSubsidy,
  buildCoinbase,
  buildHeader,
  MAX_BLOCK_WEIGHT,
  merkleRoot,
  REGTEST_GENESIS,
  serializeBlock,
} from './block-builder.ts';
import { hexOf, Mempool, type MempoolEntry, outpointKey } from './mempool.ts';
import {
  checkTxInputs,
  formatBtc,
  isFinalTx,
  isUnspendable,
  reject,
  requireCheckTransaction,
  type SpentCoin,
  sequenceLocksSatisfied,
  signalsRbf,
  TxReject,
} from './rules.ts';
import { engineVerifier } from './script-check.ts';

export type ScriptVerdict = { ok: true } | { ok: false; input: number; error: string };
/** Runs every input's scripts; `error` is Core's ScriptErrorString text. */
export type ScriptVerifier = (tx: Tx, prevouts: Prevout[], flags: number) => ScriptVerdict;

export type SimChainOptions = {
  /** Default: the project's interpreter through the transaction engine. */
  verifyScripts?: ScriptVerifier;
  /** Core's relay policy (default on, as -acceptnonstdtxn=0): the transaction engine's policy layer. Off: consensus rules only. */
  standardness?: boolean;
  minRelayFeeRate?: FeeRate;
  incrementalRelayFeeRate?: FeeRate;
  /** Core 28's default: replace without BIP-125 signalling. */
  fullRbf?: boolean;
  /** Seconds; block times are max(MTP + 1, clock()). */
  clock?: () => number;
  /** Core's -blockmaxweight (default 4,000,000; 4,000 of it are kept for the coinbase, as Core does). */
  blockMaxWeight?: number;
};

export type ChainBlock = {
  hash: string;
  height: number;
  prevHash: string;
  time: number;
  header: Uint8Array;
  raw: Uint8Array;
  txs: { txid: string; tx: Tx; raw: Uint8Array }[];
  /** Coins the block spent, in order, to restore on disconnect (only while connected). */
  undo: { key: string; coin: SpentCoin; tx: number }[];
};

export type AcceptResult = {
  txid: string;
  wtxid: string;
  fee: bigint;
  vsize: number;
  replaced: string[];
};

export type AcceptOptions = {
  /** testmempoolaccept: validate but leave the mempool untouched. */
  dryRun?: boolean;
  maxFeeRate?: FeeRate;
  /** Re-adding transactions of disconnected blocks: no fee floor, as Core's bypass_limits. */
  bypassLimits?: boolean;
};

export type Spend = { txid: string; vin: number; blockHash: string | undefined };

export class SimChainError extends VigilError {
  override name = 'SimChainError';
}

/** Core 28's relay defaults: TRUC (version 3) is standard. */
const POLICY_OPTIONS = { maxVersion: 3 } as const;
const ANCESTOR_LIMIT = 25;
const DESCENDANT_LIMIT = 25;
const MAX_REPLACEMENT_CANDIDATES = 100;
const ZERO_HASH = '0'.repeat(64);

export class SimChain {
  readonly mempool = new Mempool();
  /** The active chain; index = height. */
  private readonly active: ChainBlock[] = [];
  private readonly blocks = new Map<string, ChainBlock>();
  private readonly invalid = new Set<string>();
  private readonly utxos = new Map<string, SpentCoin>();
  private readonly txIndex = new Map<string, { blockHash: string; index: number }>();
  private readonly spentIndex = new Map<string, Spend>();
  private readonly options: Required<SimChainOptions>;
  private extraNonce = 0;
  /** What estimatesmartfee and /fee-estimates answer; undefined = a quiet chain with no estimate. */
  feeEstimate: FeeRate | undefined;

  constructor(options: SimChainOptions = {}) {
    this.options = {
      verifyScripts: options.verifyScripts ?? engineVerifier(verifyScript),
      standardness: options.standardness ?? true,
      minRelayFeeRate: options.minRelayFeeRate ?? { satPerKvb: 1000n },
      incrementalRelayFeeRate: options.incrementalRelayFeeRate ?? { satPerKvb: 1000n },
      fullRbf: options.fullRbf ?? true,
      clock: options.clock ?? (() => Math.floor(Date.now() / 1000)),
      blockMaxWeight: options.blockMaxWeight ?? MAX_BLOCK_WEIGHT,
    };
    const genesisTx = decodeTx(REGTEST_GENESIS.slice(81));
    const header = REGTEST_GENESIS.slice(0, 80);
    const genesis: ChainBlock = {
      hash: hashToHex(hash256(header)),
      height: 0,
      prevHash: ZERO_HASH,
      time: new DataView(header.buffer, header.byteOffset).getUint32(68, true),
      header,
      raw: REGTEST_GENESIS,
      txs: [{ txid: txidHex(genesisTx), tx: genesisTx, raw: REGTEST_GENESIS.slice(81) }],
      undo: [],
    };
    // As in Core, the genesis coinbase is not in the UTXO set.
    this.blocks.set(genesis.hash, genesis);
    this.active.push(genesis);
    this.txIndex.set(genesis.txs[0]?.txid as string, { blockHash: genesis.hash, index: 0 });
  }

  get standardness(): boolean {
    return this.options.standardness;
  }

  set standardness(on: boolean) {
    this.options.standardness = on;
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  get tip(): ChainBlock {
    return this.active[this.active.length - 1] as ChainBlock;
  }

  get height(): number {
    return this.active.length - 1;
  }

  blockAt(height: number): ChainBlock | undefined {
    return this.active[height];
  }

  blockByHash(hash: string): ChainBlock | undefined {
    return this.blocks.get(hash);
  }

  isActive(block: ChainBlock): boolean {
    return this.active[block.height]?.hash === block.hash;
  }

  confirmations(block: ChainBlock): number {
    return this.isActive(block) ? this.height - block.height + 1 : -1;
  }

  /** Median of the last 11 block times ending at `height` (GetMedianTimePast). */
  medianTimePast(height: number = this.height): number {
    const times: number[] = [];
    for (let h = height; h >= 0 && times.length < 11; h--) times.push((this.active[h] as ChainBlock).time);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  }

  /** A transaction in the active chain or the mempool. */
  findTx(txid: string): { tx: Tx; raw: Uint8Array; block: ChainBlock | undefined } | undefined {
    const m = this.mempool.get(txid);
    if (m) return { tx: m.tx, raw: m.raw, block: undefined };
    const at = this.txIndex.get(txid);
    if (!at) return undefined;
    const block = this.blocks.get(at.blockHash) as ChainBlock;
    const t = block.txs[at.index] as ChainBlock['txs'][number];
    return { tx: t.tx, raw: t.raw, block };
  }

  /** Confirmed, unspent output (gettxout without the mempool). */
  confirmedCoin(txid: string, vout: number): SpentCoin | undefined {
    return this.utxos.get(outpointKey(txid, vout));
  }

  /** gettxout with include_mempool: unspent in chain and mempool, or created by the mempool. */
  unspentCoin(txid: string, vout: number): SpentCoin | undefined {
    const key = outpointKey(txid, vout);
    if (this.mempool.spenders.has(key)) return undefined;
    const c = this.utxos.get(key);
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
    return this.spentIndex.get(key);
  }

  /** Outputs paying `script`: confirmed ones, and with `mempool` the mempool's view (Esplora's). */
  utxosForScript(
    script: Uint8Array,
    mempool: boolean,
  ): { txid: string; vout: number; value: bigint; height: number | undefined }[] {
    const hex = bytesToHex(script);
    const out: { txid: string; vout: number; value: bigint; height: number | undefined }[] = [];
    for (const [key, coin] of this.utxos) {
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
    const keys = [...this.utxos.keys()].sort();
    const parts: string[] = [];
    let total = 0n;
    for (const k of keys) {
      const c = this.utxos.get(k) as SpentCoin;
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
  // Mempool acceptance (MemPoolAccept::AcceptSingleTransaction)

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
    const txid = txidHex(tx);
    const wtxid = hashToHex(wtxidBytes(tx));
    const tipHeight = this.height;
    const spendHeight = tipHeight + 1;
    const prevouts = tx.inputs.map((i) => ({ txid: hexOf(i.prevTxid), vout: i.vout }));
    const keys = prevouts.map((p) => outpointKey(p.txid, p.vout));

    requireCheckTransaction(tx);
    if (isCoinbase(tx)) throw reject('coinbase');
    const weight = txWeight(tx);
    const vsize = Math.ceil(weight / 4);
    if (this.options.standardness) {
      const standard = isStandardTx(tx, POLICY_OPTIONS);
      if (!standard.ok) throw reject(standard.reason);
    }
    if (!isFinalTx(tx, spendHeight, this.medianTimePast())) throw reject('non-final');

    const existing = this.mempool.get(txid);
    if (existing) {
      throw existing.wtxid === wtxid
        ? reject('txn-already-in-mempool')
        : reject('txn-same-nonwitness-data-in-mempool');
    }

    // Direct conflicts with the mempool.
    const directConflicts = new Set<string>();
    for (const key of keys) {
      const spender = this.mempool.spenders.get(key);
      if (spender !== undefined) directConflicts.add(spender);
    }
    if (directConflicts.size > 0 && !this.options.fullRbf) {
      for (const c of directConflicts) {
        const signals = [...this.mempool.ancestors(c, true)].some((id) =>
          signalsRbf((this.mempool.get(id) as MempoolEntry).tx),
        );
        if (!signals) throw reject('txn-mempool-conflict');
      }
    }
    const allConflicts = new Set<string>();
    for (const c of directConflicts) for (const d of this.mempool.descendants(c, true)) allConflicts.add(d);

    // Coins.
    const coins: SpentCoin[] = [];
    const unconfirmedParents = new Set<string>();
    for (const [i, p] of prevouts.entries()) {
      const key = keys[i] as string;
      const confirmed = this.utxos.get(key);
      if (confirmed) {
        coins.push(confirmed);
        continue;
      }
      const parent = this.mempool.get(p.txid);
      const out = parent?.tx.outputs[p.vout];
      if (parent && out) {
        if (allConflicts.has(parent.txid)) {
          throw reject(
            'bad-txns-spends-conflicting-tx',
            `${txid} spends conflicting transaction ${parent.txid}`,
          );
        }
        coins.push({ value: out.value, script: out.script, height: spendHeight, coinbase: false });
        unconfirmedParents.add(parent.txid);
        continue;
      }
      // Core: if any output of this very transaction is already in the UTXO set, it is known.
      const known = tx.outputs.some((_, vout) => this.utxos.has(outpointKey(txid, vout)));
      throw new TxReject(known ? 'already-in-chain' : 'missing-inputs', 'bad-txns-inputs-missingorspent');
    }

    if (
      !sequenceLocksSatisfied(tx, coins, spendHeight, this.medianTimePast(), (h) => this.medianTimePast(h))
    ) {
      throw reject('non-BIP68-final');
    }
    const fee = checkTxInputs(tx, coins, spendHeight);
    const prevoutList: Prevout[] = coins.map((c) => ({ value: c.value, script: c.script }));

    if (this.options.standardness) {
      const verdict = checkPolicy(tx, prevoutList, POLICY_OPTIONS);
      if (!verdict.ok) throw reject(verdict.reason);
    }

    if (!options.bypassLimits) {
      const minFee = feeForVsize(this.options.minRelayFeeRate, vsize);
      if (fee < minFee) throw reject('min relay fee not met', `${fee} < ${minFee}`);
    }
    if (options.maxFeeRate !== undefined && fee > feeForVsize(options.maxFeeRate, vsize)) {
      throw new TxReject('max-fee', 'max-fee-exceeded');
    }

    // Ancestor and descendant limits (CTxMemPool::CalculateMemPoolAncestors).
    const ancestors = new Set<string>();
    for (const p of unconfirmedParents) for (const a of this.mempool.ancestors(p, true)) ancestors.add(a);
    if (ancestors.size + 1 > ANCESTOR_LIMIT) {
      throw reject('too-long-mempool-chain', `too many unconfirmed ancestors [limit: ${ANCESTOR_LIMIT}]`);
    }
    for (const a of ancestors) {
      if (allConflicts.has(a)) continue;
      if (this.mempool.descendants(a, true).size + 1 > DESCENDANT_LIMIT) {
        throw reject(
          'too-long-mempool-chain',
          `exceeds descendant limit for ${a} [limit: ${DESCENDANT_LIMIT}]`,
        );
      }
    }

    if (directConflicts.size > 0)
      this.checkReplacement(txid, tx, fee, vsize, directConflicts, allConflicts, unconfirmedParents);

    this.checkScripts(tx, prevoutList);

    const result: AcceptResult = { txid, wtxid, fee, vsize, replaced: [...allConflicts] };
    if (options.dryRun) return result;
    for (const c of directConflicts) this.mempool.removeWithDescendants(c);
    this.mempool.add(
      {
        txid,
        wtxid,
        tx,
        raw: encodeTx(tx),
        fee,
        vsize,
        weight,
        time: this.options.clock(),
        height: tipHeight,
      },
      prevouts,
    );
    return result;
  }

  /** policy/rbf.cpp: PaysMoreThanConflicts, GetEntriesForConflicts, HasNoNewUnconfirmed, PaysForRBF. */
  private checkReplacement(
    txid: string,
    tx: Tx,
    fee: bigint,
    vsize: number,
    direct: Set<string>,
    all: Set<string>,
    unconfirmedParents: Set<string>,
  ): void {
    const newRate = feeRateOf(fee, vsize);
    for (const c of direct) {
      const e = this.mempool.get(c) as MempoolEntry;
      const oldRate = feeRateOf(e.fee, e.vsize);
      if (newRate.satPerKvb <= oldRate.satPerKvb) {
        throw reject(
          'insufficient fee',
          `rejecting replacement ${txid}; new feerate ${fmtRate(newRate)} <= old feerate ${fmtRate(oldRate)}`,
        );
      }
    }
    if (all.size > MAX_REPLACEMENT_CANDIDATES) {
      throw reject(
        'too many potential replacements',
        `rejecting replacement ${txid}; too many potential replacements (${all.size} > ${MAX_REPLACEMENT_CANDIDATES})`,
      );
    }
    const conflictParents = new Set<string>();
    for (const c of direct)
      for (const p of (this.mempool.get(c) as MempoolEntry).parents) conflictParents.add(p);
    let idx = 0;
    for (const input of tx.inputs) {
      const parent = hexOf(input.prevTxid);
      if (unconfirmedParents.has(parent) && !conflictParents.has(parent)) {
        throw reject(
          'replacement-adds-unconfirmed',
          `replacement ${txid} adds unconfirmed input, idx ${idx}`,
        );
      }
      idx++;
    }
    let conflictFees = 0n;
    for (const c of all) conflictFees += (this.mempool.get(c) as MempoolEntry).fee;
    if (fee < conflictFees) {
      throw reject(
        'insufficient fee',
        `rejecting replacement ${txid}, less fees than conflicting txs; ${formatBtc(fee)} < ${formatBtc(conflictFees)}`,
      );
    }
    const additional = fee - conflictFees;
    const relay = feeForVsize(this.options.incrementalRelayFeeRate, vsize);
    if (additional < relay) {
      throw reject(
        'insufficient fee',
        `rejecting replacement ${txid}, not enough additional fees to relay; ${formatBtc(additional)} < ${formatBtc(relay)}`,
      );
    }
  }

  private checkScripts(tx: Tx, prevouts: Prevout[], consensusOnly = false): void {
    const flags = this.options.standardness && !consensusOnly ? STANDARD_FLAGS : CONSENSUS_FLAGS;
    const verdict = this.options.verifyScripts(tx, prevouts, flags);
    if (verdict.ok) return;
    if (flags !== CONSENSUS_FLAGS) {
      const consensus = this.options.verifyScripts(tx, prevouts, CONSENSUS_FLAGS);
      if (consensus.ok) throw reject(`non-mandatory-script-verify-flag (${verdict.error})`);
      throw reject(`mandatory-script-verify-flag-failed (${consensus.error})`);
    }
    throw reject(`mandatory-script-verify-flag-failed (${verdict.error})`);
  }

  /** testmempoolaccept: up to 25 transactions, each seen by the next, nothing kept. */
  testAccept(
    raws: Uint8Array[],
    maxFeeRate?: FeeRate,
  ): (
    | { ok: true; result: AcceptResult; tx: Tx }
    | { ok: false; txid: string; wtxid: string; error: TxReject; tx: Tx }
  )[] {
    const snapshot = this.snapshotMempool();
    try {
      return raws.map((raw) => {
        const tx = decodeTx(raw);
        try {
          return { ok: true as const, result: this.acceptTx(tx, { maxFeeRate }), tx };
        } catch (err) {
          if (!(err instanceof TxReject)) throw err;
          return { ok: false as const, txid: txidHex(tx), wtxid: hashToHex(wtxidBytes(tx)), error: err, tx };
        }
      });
    } finally {
      this.restoreMempool(snapshot);
    }
  }

  private snapshotMempool(): MempoolEntry[] {
    return this.mempool
      .ordered()
      .map((e) => ({ ...e, parents: new Set(e.parents), children: new Set(e.children) }));
  }

  private restoreMempool(entries: MempoolEntry[]): void {
    this.mempool.clear();
    for (const e of entries) {
      this.mempool.entries.set(e.txid, e);
      for (const i of e.tx.inputs) this.mempool.spenders.set(outpointKey(hexOf(i.prevTxid), i.vout), e.txid);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Mining

  /**
   * Mines one block on the tip paying `payoutScript`. Without `txs`, takes mempool packages by
   * ancestor feerate (CPFP), as BlockAssembler::addPackageTxs; with `txs` (generateblock), exactly
   * those, validated against the chain with consensus rules.
   */
  mine(payoutScript: Uint8Array, txs?: Tx[]): ChainBlock {
    const height = this.height + 1;
    const chosen = txs === undefined ? this.selectPackages() : this.validateForBlock(txs);
    let fees = 0n;
    for (const c of chosen) fees += c.fee;
    const coinbase = buildCoinbase(
      height,
      payoutScript,
      blockSubsidy(height) + fees,
      chosen.map((c) => c.tx),
      this.extraNonce++,
    );
    const all = [coinbase, ...chosen.map((c) => c.tx)];
    const root = merkleRoot(all.map((t) => txidBytes(t)));
    const time = Math.max(this.medianTimePast() + 1, this.options.clock(), this.tip.time);
    const prev = hexToInternal(this.tip.hash);
    const { header, hash } = buildHeader(prev, root, time);
    const block: ChainBlock = {
      hash: hashToHex(hash),
      height,
      prevHash: this.tip.hash,
      time,
      header,
      raw: serializeBlock(header, all),
      txs: all.map((t) => ({ txid: txidHex(t), tx: t, raw: encodeTx(t) })),
      undo: [],
    };
    this.blocks.set(block.hash, block);
    this.connect(block);
    return block;
  }

  private selectPackages(): { tx: Tx; fee: bigint }[] {
    type Package = { ids: string[]; fee: bigint; vsize: number; weight: number };
    const selected = new Set<string>();
    const out: { tx: Tx; fee: bigint }[] = [];
    let weightLeft = this.options.blockMaxWeight - 4000;
    const minRate = this.options.minRelayFeeRate.satPerKvb;
    // Each entry with its not-yet-selected ancestors; recomputed only for descendants of what is taken.
    const packageOf = (txid: string): Package => {
      const ids = [...this.mempool.ancestors(txid, true)].filter((id) => !selected.has(id));
      let fee = 0n;
      let vsize = 0;
      let weight = 0;
      for (const id of ids) {
        const a = this.mempool.get(id) as MempoolEntry;
        fee += a.fee;
        vsize += a.vsize;
        weight += a.weight;
      }
      return { ids, fee, vsize, weight };
    };
    const packages = new Map<string, Package>();
    for (const id of this.mempool.entries.keys()) packages.set(id, packageOf(id));
    for (;;) {
      let bestId: string | undefined;
      let best: Package | undefined;
      for (const [id, p] of packages) {
        if (best === undefined || p.fee * BigInt(best.vsize) > best.fee * BigInt(p.vsize)) {
          best = p;
          bestId = id;
        }
      }
      if (best === undefined || bestId === undefined) break;
      if ((best.fee * 1000n) / BigInt(best.vsize) < minRate) break;
      if (best.weight > weightLeft) {
        packages.delete(bestId); // too heavy for what is left; smaller packages may still fit
        continue;
      }
      weightLeft -= best.weight;
      const taken = best.ids
        .map((id) => this.mempool.get(id) as MempoolEntry)
        .sort((a, b) => a.sequence - b.sequence);
      for (const e of taken) {
        selected.add(e.txid);
        packages.delete(e.txid);
        out.push({ tx: e.tx, fee: e.fee });
      }
      const touched = new Set<string>();
      for (const e of taken)
        for (const d of this.mempool.descendants(e.txid)) if (packages.has(d)) touched.add(d);
      for (const d of touched) packages.set(d, packageOf(d));
    }
    return out;
  }

  /** ConnectBlock's checks for explicitly given transactions, each seeing the ones before it. */
  private validateForBlock(txs: Tx[]): { tx: Tx; fee: bigint }[] {
    const height = this.height + 1;
    const created = new Map<string, SpentCoin>();
    const spent = new Set<string>();
    const out: { tx: Tx; fee: bigint }[] = [];
    for (const tx of txs) {
      const keys = tx.inputs.map((i) => outpointKey(hexOf(i.prevTxid), i.vout));
      requireCheckTransaction(tx);
      if (isCoinbase(tx)) throw reject('bad-cb-multiple');
      if (!isFinalTx(tx, height, this.medianTimePast())) throw reject('bad-txns-nonfinal');
      const coins = keys.map((k) => {
        const c = spent.has(k) ? undefined : (created.get(k) ?? this.utxos.get(k));
        if (!c) throw reject('bad-txns-inputs-missingorspent');
        spent.add(k);
        return c;
      });
      if (!sequenceLocksSatisfied(tx, coins, height, this.medianTimePast(), (h) => this.medianTimePast(h))) {
        throw reject('bad-txns-nonfinal', 'contains a non-BIP68-final transaction');
      }
      const fee = checkTxInputs(tx, coins, height);
      this.checkScripts(
        tx,
        coins.map((c) => ({ value: c.value, script: c.script })),
        true,
      );
      const txid = txidHex(tx);
      tx.outputs.forEach((o, vout) => {
        created.set(outpointKey(txid, vout), { value: o.value, script: o.script, height, coinbase: false });
      });
      out.push({ tx, fee });
    }
    return out;
  }

  private connect(block: ChainBlock): void {
    block.undo = [];
    block.txs.forEach(({ txid, tx }, index) => {
      const coinbase = index === 0;
      if (!coinbase) {
        tx.inputs.forEach((input, vin) => {
          const key = outpointKey(hexOf(input.prevTxid), input.vout);
          const coin = this.utxos.get(key);
          if (!coin) throw new SimChainError(`block ${block.hash} spends missing coin ${key}`);
          block.undo.push({ key, coin, tx: index });
          this.utxos.delete(key);
          this.spentIndex.set(key, { txid, vin, blockHash: block.hash });
          // A different mempool transaction spending the same coin is now a conflict.
          const spender = this.mempool.spenders.get(key);
          if (spender !== undefined && spender !== txid) this.mempool.removeWithDescendants(spender);
        });
      }
      tx.outputs.forEach((o, vout) => {
        if (isUnspendable(o.script)) return; // Core's AddCoins leaves provably unspendable outputs out
        this.utxos.set(outpointKey(txid, vout), {
          value: o.value,
          script: o.script,
          height: block.height,
          coinbase,
        });
      });
      this.txIndex.set(txid, { blockHash: block.hash, index });
      this.mempool.removeMined(txid);
    });
    this.active.push(block);
  }

  /**
   * DisconnectBlock: transactions in reverse order, each removing its outputs and then restoring the
   * coins it spent, so an output created and spent inside the same block ends up in neither state.
   */
  private disconnectTip(): ChainBlock {
    const block = this.active.pop() as ChainBlock;
    for (let index = block.txs.length - 1; index >= 0; index--) {
      const { txid, tx } = block.txs[index] as ChainBlock['txs'][number];
      for (let vout = 0; vout < tx.outputs.length; vout++) this.utxos.delete(outpointKey(txid, vout));
      if (this.txIndex.get(txid)?.blockHash === block.hash) this.txIndex.delete(txid);
      for (const u of block.undo) {
        if (u.tx !== index) continue;
        this.utxos.set(u.key, u.coin);
        this.spentIndex.delete(u.key);
      }
    }
    block.undo = [];
    return block;
  }

  // ---------------------------------------------------------------------------------------------
  // Reorgs

  /** invalidateblock: the block and its descendants become invalid; the best valid chain becomes active. */
  invalidateBlock(hash: string): void {
    if (!this.blocks.has(hash)) throw new SimChainError(`Block not found: ${hash}`);
    if (hash === this.active[0]?.hash) throw new SimChainError('Cannot invalidate the genesis block');
    this.invalid.add(hash);
    this.activateBestChain();
  }

  /** reconsiderblock: forget the invalidity of the block and its ancestors; reorg to the best chain. */
  reconsiderBlock(hash: string): void {
    let b = this.blocks.get(hash);
    if (!b) throw new SimChainError(`Block not found: ${hash}`);
    while (b) {
      this.invalid.delete(b.hash);
      b = this.blocks.get(b.prevHash);
    }
    for (const other of this.blocks.values())
      if (this.descendsFrom(other, hash)) this.invalid.delete(other.hash);
    this.activateBestChain();
  }

  private descendsFrom(block: ChainBlock, ancestor: string): boolean {
    let b: ChainBlock | undefined = block;
    while (b) {
      if (b.hash === ancestor) return true;
      b = this.blocks.get(b.prevHash);
    }
    return false;
  }

  private isValidBranch(block: ChainBlock): boolean {
    let b: ChainBlock | undefined = block;
    while (b) {
      if (this.invalid.has(b.hash)) return false;
      if (this.isActive(b)) return true;
      b = this.blocks.get(b.prevHash);
    }
    return true;
  }

  private activateBestChain(): void {
    // Disconnect invalid blocks from the tip first.
    const disconnected: ChainBlock[] = [];
    while (this.active.length > 1 && this.active.some((b) => this.invalid.has(b.hash))) {
      disconnected.push(this.disconnectTip());
    }
    // Equal work per block on regtest: the highest valid tip wins; the current tip wins ties.
    let best = this.tip;
    for (const b of this.blocks.values()) {
      if (b.height > best.height && this.isValidBranch(b)) best = b;
    }
    const connected: ChainBlock[] = [];
    if (best.hash !== this.tip.hash) {
      const branch: ChainBlock[] = [];
      let b: ChainBlock | undefined = best;
      while (b && !this.isActive(b)) {
        branch.push(b);
        b = this.blocks.get(b.prevHash);
      }
      const fork = b as ChainBlock;
      while (this.height > fork.height) disconnected.push(this.disconnectTip());
      for (const nb of branch.reverse()) {
        this.connect(nb);
        connected.push(nb);
      }
    }
    if (disconnected.length > 0) this.refillMempool(disconnected);
  }

  /**
   * MaybeUpdateMempoolForReorg: transactions of disconnected blocks go back (oldest block first, no fee
   * floor), then the old mempool is re-validated; whatever no longer fits (conflicts with the new
   * chain, immature coinbase spends, unmet timelocks) is dropped.
   */
  private refillMempool(disconnected: ChainBlock[]): void {
    const old = this.mempool.ordered();
    this.mempool.clear();
    const blocks = [...disconnected].sort((a, b) => a.height - b.height);
    for (const block of blocks) {
      for (const { txid, tx } of block.txs.slice(1)) {
        if (this.txIndex.has(txid)) continue; // mined again on the new branch
        this.tryAccept(tx, true);
      }
    }
    for (const e of old) this.tryAccept(e.tx, true);
  }

  private tryAccept(tx: Tx, bypassLimits: boolean): void {
    try {
      this.acceptTx(tx, { bypassLimits });
    } catch (err) {
      if (!(err instanceof TxReject)) throw err;
    }
  }
}

/** CFeeRate::ToString() as Core 26 prints it in RBF refusals: BTC/kvB with 8 decimals. */
function fmtRate(rate: FeeRate): string {
  return `${formatBtc(rate.satPerKvb)} BTC/kvB`;
}

function hexToInternal(displayHex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[31 - i] = Number.parseInt(displayHex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
