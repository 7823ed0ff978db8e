/**
 * simnet's mempool acceptance (MemPoolAccept::AcceptSingleTransaction) with Core's relay policy:
 * standardness, finality, conflicts and RBF (policy/rbf.cpp), coins and maturity, BIP-68, fees and the
 * relay floor, ancestor and descendant limits, then the scripts; and testmempoolaccept over a snapshot
 * of the mempool.
 */
import { decodeTx, encodeTx, hashToHex, isCoinbase, txidHex, txWeight, wtxidBytes } from '../codec/codec.ts';
import { type FeeRate, feeForVsize, feeRateOf } from '../codec/fee-rate.ts';
import { checkPolicy, isStandardTx } from '../tx/policy.ts';
import type { Prevout, Tx } from '../tx/types.ts';
import type { ChainState } from './chain-state.ts';
import { hexOf, type Mempool, type MempoolEntry, outpointKey } from './mempool.ts';
import {
  checkTxInputs,
  formatBtc,
  isFinalTx,
  reject,
  requireCheckTransaction,
  type SpentCoin,
  sequenceLocksSatisfied,
  signalsRbf,
  TxReject,
} from './rules.ts';
import { checkScripts } from './script-check.ts';
import type { AcceptOptions, AcceptResult } from './types.ts';

/** Core 28's relay defaults: TRUC (version 3) is standard. */
const POLICY_OPTIONS = { maxVersion: 3 } as const;
const ANCESTOR_LIMIT = 25;
const DESCENDANT_LIMIT = 25;
const MAX_REPLACEMENT_CANDIDATES = 100;

export function acceptTransaction(state: ChainState, tx: Tx, options: AcceptOptions = {}): AcceptResult {
  const txid = txidHex(tx);
  const wtxid = hashToHex(wtxidBytes(tx));
  const tipHeight = state.height;
  const spendHeight = tipHeight + 1;
  const prevouts = tx.inputs.map((i) => ({ txid: hexOf(i.prevTxid), vout: i.vout }));
  const keys = prevouts.map((p) => outpointKey(p.txid, p.vout));

  requireCheckTransaction(tx);
  if (isCoinbase(tx)) throw reject('coinbase');
  const weight = txWeight(tx);
  const vsize = Math.ceil(weight / 4);
  if (state.options.standardness) {
    const standard = isStandardTx(tx, POLICY_OPTIONS);
    if (!standard.ok) throw reject(standard.reason);
  }
  if (!isFinalTx(tx, spendHeight, state.medianTimePast())) throw reject('non-final');

  const existing = state.mempool.get(txid);
  if (existing) {
    throw existing.wtxid === wtxid
      ? reject('txn-already-in-mempool')
      : reject('txn-same-nonwitness-data-in-mempool');
  }

  // Direct conflicts with the mempool.
  const directConflicts = new Set<string>();
  for (const key of keys) {
    const spender = state.mempool.spenders.get(key);
    if (spender !== undefined) directConflicts.add(spender);
  }
  // Only the conflicting transaction's own signal counts: Core never implemented BIP-125's inherited
  // signalling (CVE-2021-31876), so a non-signalling child of a signalling parent is not replaceable.
  if (directConflicts.size > 0 && !state.options.fullRbf) {
    for (const c of directConflicts) {
      if (!signalsRbf((state.mempool.get(c) as MempoolEntry).tx)) throw reject('txn-mempool-conflict');
    }
  }
  const allConflicts = new Set<string>();
  for (const c of directConflicts) for (const d of state.mempool.descendants(c, true)) allConflicts.add(d);

  // Coins.
  const coins: SpentCoin[] = [];
  const unconfirmedParents = new Set<string>();
  for (const [i, p] of prevouts.entries()) {
    const key = keys[i] as string;
    const confirmed = state.utxos.get(key);
    if (confirmed) {
      coins.push(confirmed);
      continue;
    }
    const parent = state.mempool.get(p.txid);
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
    const known = tx.outputs.some((_, vout) => state.utxos.has(outpointKey(txid, vout)));
    throw new TxReject(known ? 'already-in-chain' : 'missing-inputs', 'bad-txns-inputs-missingorspent');
  }

  if (
    !sequenceLocksSatisfied(tx, coins, spendHeight, state.medianTimePast(), (h) => state.medianTimePast(h))
  ) {
    throw reject('non-BIP68-final');
  }
  const fee = checkTxInputs(tx, coins, spendHeight);
  const prevoutList: Prevout[] = coins.map((c) => ({ value: c.value, script: c.script }));

  if (state.options.standardness) {
    const verdict = checkPolicy(tx, prevoutList, POLICY_OPTIONS);
    if (!verdict.ok) throw reject(verdict.reason);
  }

  if (!options.bypassLimits) {
    const minFee = feeForVsize(state.options.minRelayFeeRate, vsize);
    if (fee < minFee) throw reject('min relay fee not met', `${fee} < ${minFee}`);
  }
  if (options.maxFeeRate !== undefined && fee > feeForVsize(options.maxFeeRate, vsize)) {
    throw new TxReject('max-fee', 'max-fee-exceeded');
  }

  // Ancestor and descendant limits (CTxMemPool::CalculateMemPoolAncestors).
  const ancestors = new Set<string>();
  for (const p of unconfirmedParents) for (const a of state.mempool.ancestors(p, true)) ancestors.add(a);
  if (ancestors.size + 1 > ANCESTOR_LIMIT) {
    throw reject('too-long-mempool-chain', `too many unconfirmed ancestors [limit: ${ANCESTOR_LIMIT}]`);
  }
  for (const a of ancestors) {
    if (allConflicts.has(a)) continue;
    if (state.mempool.descendants(a, true).size + 1 > DESCENDANT_LIMIT) {
      throw reject(
        'too-long-mempool-chain',
        `exceeds descendant limit for ${a} [limit: ${DESCENDANT_LIMIT}]`,
      );
    }
  }

  if (directConflicts.size > 0)
    checkReplacement(state, txid, tx, fee, vsize, directConflicts, allConflicts, unconfirmedParents);

  checkScripts(state.options.verifyScripts, state.options.standardness, tx, prevoutList);

  const result: AcceptResult = { txid, wtxid, fee, vsize, replaced: [...allConflicts] };
  if (options.dryRun) return result;
  for (const c of directConflicts) state.mempool.removeWithDescendants(c);
  state.mempool.add(
    {
      txid,
      wtxid,
      tx,
      raw: encodeTx(tx),
      fee,
      vsize,
      weight,
      time: state.options.clock(),
      height: tipHeight,
    },
    prevouts,
  );
  return result;
}

/** policy/rbf.cpp: PaysMoreThanConflicts, GetEntriesForConflicts, HasNoNewUnconfirmed, PaysForRBF. */
function checkReplacement(
  state: ChainState,
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
    const e = state.mempool.get(c) as MempoolEntry;
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
    for (const p of (state.mempool.get(c) as MempoolEntry).parents) conflictParents.add(p);
  let idx = 0;
  for (const input of tx.inputs) {
    const parent = hexOf(input.prevTxid);
    if (unconfirmedParents.has(parent) && !conflictParents.has(parent)) {
      throw reject('replacement-adds-unconfirmed', `replacement ${txid} adds unconfirmed input, idx ${idx}`);
    }
    idx++;
  }
  let conflictFees = 0n;
  for (const c of all) conflictFees += (state.mempool.get(c) as MempoolEntry).fee;
  if (fee < conflictFees) {
    throw reject(
      'insufficient fee',
      `rejecting replacement ${txid}, less fees than conflicting txs; ${formatBtc(fee)} < ${formatBtc(conflictFees)}`,
    );
  }
  const additional = fee - conflictFees;
  const relay = feeForVsize(state.options.incrementalRelayFeeRate, vsize);
  if (additional < relay) {
    throw reject(
      'insufficient fee',
      `rejecting replacement ${txid}, not enough additional fees to relay; ${formatBtc(additional)} < ${formatBtc(relay)}`,
    );
  }
}

/** One transaction's answer in testmempoolaccept. */
export type TestAcceptOutcome =
  | { ok: true; result: AcceptResult; tx: Tx }
  | { ok: false; txid: string; wtxid: string; error: TxReject; tx: Tx };

/** testmempoolaccept: up to 25 transactions, each seen by the next, nothing kept. */
export function testAccept(state: ChainState, raws: Uint8Array[], maxFeeRate?: FeeRate): TestAcceptOutcome[] {
  const snapshot = snapshotMempool(state.mempool);
  try {
    return raws.map((raw) => {
      const tx = decodeTx(raw);
      try {
        return { ok: true as const, result: acceptTransaction(state, tx, { maxFeeRate }), tx };
      } catch (err) {
        if (!(err instanceof TxReject)) throw err;
        return { ok: false as const, txid: txidHex(tx), wtxid: hashToHex(wtxidBytes(tx)), error: err, tx };
      }
    });
  } finally {
    restoreMempool(state.mempool, snapshot);
  }
}

function snapshotMempool(mempool: Mempool): MempoolEntry[] {
  return mempool.ordered().map((e) => ({ ...e, parents: new Set(e.parents), children: new Set(e.children) }));
}

function restoreMempool(mempool: Mempool, entries: MempoolEntry[]): void {
  mempool.clear();
  for (const e of entries) {
    mempool.entries.set(e.txid, e);
    for (const i of e.tx.inputs) mempool.spenders.set(outpointKey(hexOf(i.prevTxid), i.vout), e.txid);
  }
}
/** CFeeRate::ToString() as Core 26 prints it in RBF refusals: BTC/kvB with 8 decimals. */
function fmtRate(rate: FeeRate): string {
  return `${formatBtc(rate.satPerKvb)} BTC/kvB`;
}
