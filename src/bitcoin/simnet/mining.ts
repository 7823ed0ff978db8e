/**
 * simnet's mining: a block on the tip paying subsidy + fees, filled with mempool packages by ancestor
 * feerate (BlockAssembler::addPackageTxs, so CPFP works) or with exactly the transactions given
 * (generateblock, checked as ConnectBlock would), then connected; and the restore of a block recorded
 * earlier, byte for byte, checked as ConnectBlock would (`restoreBlock`).
 */
import { concatBytes, equalBytes } from '../../core/bytes.ts';
import { hash256 } from '../../core/hashes.ts';
import {
  decodeBlock,
  encodeTx,
  hashToHex,
  isCoinbase,
  txidBytes,
  txidHex,
  txWeight,
  wtxidBytes,
} from '../codec/codec.ts';
import type { FeeRate } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import {
  blockSubsidy,
  buildCoinbase,
  buildHeader,
  MAX_BLOCK_WEIGHT,
  merkleRoot,
  REGTEST_BITS,
  serializeBlock,
} from './block-builder.ts';
import type { ChainState } from './chain-state.ts';
import { hexOf, type Mempool, type MempoolEntry, outpointKey } from './mempool.ts';
import {
  checkTxInputs,
  isFinalTx,
  reject,
  requireCheckTransaction,
  type SpentCoin,
  sequenceLocksSatisfied,
  TxReject,
} from './rules.ts';
import { checkScripts } from './script-check.ts';
import { type ChainBlock, SimChainError } from './types.ts';

/**
 * Mines one block on the tip paying `payoutScript`. Without `txs`, takes mempool packages by
 * ancestor feerate (CPFP), as BlockAssembler::addPackageTxs; with `txs` (generateblock), exactly
 * those, validated against the chain with consensus rules.
 */
export function mineBlock(state: ChainState, payoutScript: Uint8Array, txs?: Tx[]): ChainBlock {
  const height = state.height + 1;
  const chosen =
    txs === undefined
      ? selectPackages(state.mempool, state.options.blockMaxWeight, state.options.minRelayFeeRate)
      : validateForBlock(state, txs);
  let fees = 0n;
  for (const c of chosen) fees += c.fee;
  const coinbase = buildCoinbase(
    height,
    payoutScript,
    blockSubsidy(height) + fees,
    chosen.map((c) => c.tx),
    state.nextExtraNonce(),
  );
  const all = [coinbase, ...chosen.map((c) => c.tx)];
  const root = merkleRoot(all.map((t) => txidBytes(t)));
  const time = Math.max(state.medianTimePast() + 1, state.options.clock(), state.tip.time);
  const prev = hexToInternal(state.tip.hash);
  const { header, hash } = buildHeader(prev, root, time);
  const block: ChainBlock = {
    hash: hashToHex(hash),
    height,
    prevHash: state.tip.hash,
    time,
    header,
    raw: serializeBlock(header, all),
    txs: all.map((t) => ({ txid: txidHex(t), tx: t, raw: encodeTx(t) })),
    undo: [],
  };
  state.blocks.set(block.hash, block);
  state.connect(block);
  return block;
}

function selectPackages(
  mempool: Mempool,
  blockMaxWeight: number,
  minRelayFeeRate: FeeRate,
): { tx: Tx; fee: bigint }[] {
  type Package = { ids: string[]; fee: bigint; vsize: number; weight: number };
  const selected = new Set<string>();
  const out: { tx: Tx; fee: bigint }[] = [];
  let weightLeft = blockMaxWeight - 4000;
  const minRate = minRelayFeeRate.satPerKvb;
  // Each entry with its not-yet-selected ancestors; recomputed only for descendants of what is taken.
  const packageOf = (txid: string): Package => {
    const ids = [...mempool.ancestors(txid, true)].filter((id) => !selected.has(id));
    let fee = 0n;
    let vsize = 0;
    let weight = 0;
    for (const id of ids) {
      const a = mempool.get(id) as MempoolEntry;
      fee += a.fee;
      vsize += a.vsize;
      weight += a.weight;
    }
    return { ids, fee, vsize, weight };
  };
  const packages = new Map<string, Package>();
  for (const id of mempool.entries.keys()) packages.set(id, packageOf(id));
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
      .map((id) => mempool.get(id) as MempoolEntry)
      .sort((a, b) => a.sequence - b.sequence);
    for (const e of taken) {
      selected.add(e.txid);
      packages.delete(e.txid);
      out.push({ tx: e.tx, fee: e.fee });
    }
    const touched = new Set<string>();
    for (const e of taken) for (const d of mempool.descendants(e.txid)) if (packages.has(d)) touched.add(d);
    for (const d of touched) packages.set(d, packageOf(d));
  }
  return out;
}

/**
 * ConnectBlock's checks for explicitly given transactions, each seeing the ones before it; `each` is
 * told the index of the transaction about to be checked (so a refusal can name it).
 */
function validateForBlock(
  state: ChainState,
  txs: Tx[],
  each?: (index: number) => void,
): { tx: Tx; fee: bigint }[] {
  const height = state.height + 1;
  const created = new Map<string, SpentCoin>();
  const spent = new Set<string>();
  const out: { tx: Tx; fee: bigint }[] = [];
  for (const [index, tx] of txs.entries()) {
    each?.(index);
    const keys = tx.inputs.map((i) => outpointKey(hexOf(i.prevTxid), i.vout));
    requireCheckTransaction(tx);
    if (isCoinbase(tx)) throw reject('bad-cb-multiple');
    if (!isFinalTx(tx, height, state.medianTimePast())) throw reject('bad-txns-nonfinal');
    const coins = keys.map((k) => {
      const c = spent.has(k) ? undefined : (created.get(k) ?? state.utxos.get(k));
      if (!c) throw reject('bad-txns-inputs-missingorspent');
      spent.add(k);
      return c;
    });
    if (!sequenceLocksSatisfied(tx, coins, height, state.medianTimePast(), (h) => state.medianTimePast(h))) {
      throw reject('bad-txns-nonfinal', 'contains a non-BIP68-final transaction');
    }
    const fee = checkTxInputs(tx, coins, height);
    checkScripts(
      state.options.verifyScripts,
      state.options.standardness,
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

/**
 * Connects a block recorded earlier on the tip, keeping its bytes, header, time and hash: the header
 * must name the tip as its parent, meet regtest's target and carry a time above the median-time-past;
 * the merkle root and the witness commitment must match the transactions; the coinbase must be the
 * only one, name the height (BIP-34) and pay at most subsidy + fees; every other transaction is
 * checked as generateblock checks its own (`validateForBlock`: consensus rules and scripts). Refusals
 * are SimChainErrors naming the block and Core's reason. The coinbase's extra nonce is noted so blocks
 * mined afterwards never repeat a coinbase.
 */
export function restoreBlock(state: ChainState, raw: Uint8Array): ChainBlock {
  let decoded: ReturnType<typeof decodeBlock>;
  try {
    decoded = decodeBlock(raw);
  } catch (err) {
    throw new SimChainError('recorded block refused: it does not decode', { cause: err });
  }
  const { header } = decoded;
  const hash = hashToHex(decoded.hash);
  const height = state.height + 1;
  const refuse: Refuse = (reason, details, cause) =>
    new SimChainError(`recorded block ${hash} (height ${height}) refused: ${reason}`, {
      ...(details === undefined ? {} : { details }),
      ...(cause === undefined ? {} : { cause }),
    });
  const view = new DataView(header.buffer, header.byteOffset, 80);
  const prevHash = hashToHex(header.slice(4, 36));
  if (prevHash !== state.tip.hash) {
    throw refuse('prev-blk-not-tip', `its parent is ${prevHash}, the tip is ${state.tip.hash}`);
  }
  if (state.blocks.has(hash)) throw refuse('duplicate');
  if (view.getUint32(72, true) !== REGTEST_BITS || !meetsRegtestTarget(decoded.hash)) {
    throw refuse('high-hash', 'proof of work failed');
  }
  const time = view.getUint32(68, true);
  if (time <= state.medianTimePast()) throw refuse('time-too-old', 'block timestamp too early');
  const txs = decoded.txs.map((t) => t.tx);
  const coinbase = txs[0];
  if (coinbase === undefined || !isCoinbase(coinbase)) throw refuse('bad-cb-missing');
  if (!equalBytes(header.slice(36, 68), merkleRoot(txs.map((t) => txidBytes(t))))) {
    throw refuse('bad-txnmrklroot', 'hashMerkleRoot mismatch');
  }
  if (txs.reduce((w, t) => w + txWeight(t), 320) > MAX_BLOCK_WEIGHT) throw refuse('bad-blk-weight');
  checkWitnessCommitment(txs, refuse);
  try {
    requireCheckTransaction(coinbase);
  } catch (err) {
    throw rejectToError(err, refuse);
  }
  if (coinbaseHeight(coinbase) !== height) throw refuse('bad-cb-height', 'block height mismatch in coinbase');
  let chosen: { tx: Tx; fee: bigint }[];
  let at = 0;
  try {
    chosen = validateForBlock(state, txs.slice(1), (i) => {
      at = i + 1;
    });
  } catch (err) {
    if (!(err instanceof TxReject)) throw err;
    throw refuse(err.message, `transaction ${at} (${txidHex(txs[at] as Tx)})`, err);
  }
  const fees = chosen.reduce((s, c) => s + c.fee, 0n);
  const paid = coinbase.outputs.reduce((s, o) => s + o.value, 0n);
  if (paid > blockSubsidy(height) + fees) {
    throw refuse(
      'bad-cb-amount',
      `coinbase pays too much (actual=${paid} vs limit=${blockSubsidy(height) + fees})`,
    );
  }
  const extraNonce = coinbaseExtraNonce(coinbase);
  if (extraNonce !== undefined) state.noteExtraNonce(extraNonce);
  const block: ChainBlock = {
    hash,
    height,
    prevHash,
    time,
    header,
    raw: raw.slice(),
    txs: decoded.txs.map((t) => ({ txid: txidHex(t.tx), tx: t.tx, raw: t.raw })),
    undo: [],
  };
  state.blocks.set(block.hash, block);
  state.connect(block);
  return block;
}

type Refuse = (reason: string, details?: string, cause?: unknown) => SimChainError;

function rejectToError(err: unknown, refuse: Refuse): unknown {
  return err instanceof TxReject ? refuse(err.message, undefined, err) : err;
}

const WITNESS_COMMITMENT_HEADER = Uint8Array.from([0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);

/** BIP-141: the last commitment output must match the witness root; without one, no witness at all. */
function checkWitnessCommitment(txs: Tx[], refuse: Refuse): void {
  const coinbase = txs[0] as Tx;
  const commitment = [...coinbase.outputs]
    .reverse()
    .find((o) => o.script.length >= 38 && equalBytes(o.script.slice(0, 6), WITNESS_COMMITMENT_HEADER));
  if (commitment === undefined) {
    if (txs.some((t) => t.inputs.some((i) => i.witness.length > 0))) throw refuse('unexpected-witness');
    return;
  }
  const reserved = coinbase.inputs[0]?.witness;
  if (reserved?.length !== 1 || reserved[0]?.length !== 32) {
    throw refuse('bad-witness-nonce-size');
  }
  const root = merkleRoot([new Uint8Array(32), ...txs.slice(1).map((t) => wtxidBytes(t))]);
  if (!equalBytes(hash256(concatBytes(root, reserved[0])), commitment.script.slice(6, 38))) {
    throw refuse('bad-witness-merkle-match', 'witness merkle commitment mismatch');
  }
}

/** The height a BIP-34 coinbase names (the first push of its scriptSig), or undefined. */
function coinbaseHeight(coinbase: Tx): number | undefined {
  const s = coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0);
  const op = s[0];
  if (op === undefined) return undefined;
  if (op === 0x00) return 0;
  if (op >= 0x51 && op <= 0x60) return op - 0x50;
  if (op < 1 || op > 8 || s.length < 1 + op) return undefined;
  let n = 0;
  for (let i = op; i >= 1; i--) n = n * 256 + (s[i] as number);
  return n;
}

/** The extra nonce simnet's coinbase carries after the height push (`buildCoinbase`), or undefined. */
function coinbaseExtraNonce(coinbase: Tx): number | undefined {
  const s = coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0);
  const op = s[0];
  if (op === undefined) return undefined;
  const at = op === 0x00 || (op >= 0x51 && op <= 0x60) ? 1 : 1 + op;
  if (s[at] !== 0x04 || s.length !== at + 5) return undefined;
  return new DataView(s.buffer, s.byteOffset + at + 1, 4).getUint32(0, true);
}

/** regtest's target (0x207fffff), the hash read as a little-endian number. */
function meetsRegtestTarget(hash: Uint8Array): boolean {
  const top = hash[31] as number;
  return top < 0x7f || (top === 0x7f && ((hash[30] as number) < 0xff || (hash[29] as number) < 0xff));
}

function hexToInternal(displayHex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[31 - i] = Number.parseInt(displayHex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
