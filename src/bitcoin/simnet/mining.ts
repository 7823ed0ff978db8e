/**
 * simnet's mining: a block on the tip paying subsidy + fees, filled with mempool packages by ancestor
 * feerate (BlockAssembler::addPackageTxs, so CPFP works) or with exactly the transactions given
 * (generateblock, checked as ConnectBlock would), then connected.
 */
import { encodeTx, hashToHex, isCoinbase, txidBytes, txidHex } from '../codec/codec.ts';
import type { FeeRate } from '../codec/fee-rate.ts';
import type { Tx } from '../tx/types.ts';
import { blockSubsidy, buildCoinbase, buildHeader, merkleRoot, serializeBlock } from './block-builder.ts';
import type { ChainState } from './chain-state.ts';
import { hexOf, type Mempool, type MempoolEntry, outpointKey } from './mempool.ts';
import {
  checkTxInputs,
  isFinalTx,
  reject,
  requireCheckTransaction,
  type SpentCoin,
  sequenceLocksSatisfied,
} from './rules.ts';
import { checkScripts } from './script-check.ts';
import type { ChainBlock } from './types.ts';

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

/** ConnectBlock's checks for explicitly given transactions, each seeing the ones before it. */
function validateForBlock(state: ChainState, txs: Tx[]): { tx: Tx; fee: bigint }[] {
  const height = state.height + 1;
  const created = new Map<string, SpentCoin>();
  const spent = new Set<string>();
  const out: { tx: Tx; fee: bigint }[] = [];
  for (const tx of txs) {
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
function hexToInternal(displayHex: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[31 - i] = Number.parseInt(displayHex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
