/**
 * The Bitcoin side of a dispute, read from a backend alone: the kick-off, the transaction that created
 * the claim output it spends, and every transaction spending the dispute's outputs, each with its
 * confirmation and the outputs it spends (what the interpreter needs to verify it again offline).
 *
 * The walk is breadth-first from the kick-off over `getOutspend`. Every spender is fetched and hashed
 * to the txid the backend named, and must spend the output asked about (`verifiedOutspend`), so a
 * backend cannot slip another transaction into the bundle. Each confirmation is checked against the
 * backend's own chain: the block at that height must be the one named and must hold the transaction.
 * What stays the backend's word: which outputs are unspent (a backend can hide a spender), and that its
 * chain is the most-work chain.
 *
 * How far it walks: with the operator's graph, the graph's own transactions are followed to their
 * spenders, and a transaction outside the graph (a challenger's CPFP child, whoever spends a reward) is
 * kept but not followed, so the walk ends where the dispute does. Without a graph nothing tells the
 * dispute's outputs from the rest of the chain, so every output is followed, `maxDepth` generations
 * below the kick-off (the graph's longest path, kick-off → assert → disprove, is two; one more keeps the
 * fee-bumping children).
 */

import type { BitcoinBackend, TxStatus } from '../bitcoin/backends/types.ts';
import { verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { outsideRetry, verifiedTx } from '../bitcoin/backends/verify.ts';
import { hashToHex } from '../bitcoin/codec/codec.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import type { BundleConfirmation, BundlePrevout, BundleTx, BundleTxRole } from './bundle.ts';
import { graphOutpoints, outpointKey, roleInGraph } from './roles.ts';

/** The dispute has more Bitcoin transactions than the walk is allowed to collect. */
export class DisputeTooLargeError extends VigilError {
  override name = 'DisputeTooLargeError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** A transaction the dispute needs is one the backend cannot produce (Core without -txindex, a pruned node). */
export class DisputeTxUnavailableError extends VigilError {
  override name = 'DisputeTxUnavailableError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

export type CollectOptions = {
  kickoffTxid: string;
  /** The operator's imported graph: names each transaction; without it every spender is 'other'. */
  graph?: Graph;
  /** At most this many transactions in all (default 1,000); more is an error, not a truncated bundle. */
  maxTxs?: number;
  /** Generations of spenders followed below the kick-off (default 3). */
  maxDepth?: number;
};

export const DEFAULT_MAX_DISPUTE_TXS = 1_000;
export const DEFAULT_MAX_DISPUTE_DEPTH = 3;

type Found = { txid: string; raw: Uint8Array; tx: Tx; status: TxStatus; role: BundleTxRole; depth: number };

const confirmationOf = (s: TxStatus): BundleConfirmation | undefined =>
  s.confirmed ? { height: s.blockHeight, blockHash: s.blockHash } : undefined;

const isNullOutpoint = (i: Tx['inputs'][number]): boolean =>
  i.vout === 0xffffffff && i.prevTxid.every((b) => b === 0);

/** Fetches transactions by txid, each checked against its txid, once. */
/** The backend's chain contradicts the confirmation it gave for a transaction. */
export class DisputeConfirmationError extends VigilError {
  override name = 'DisputeConfirmationError';
  override readonly category: VigilErrorCategory = 'unavailable';
}

/**
 * A confirmation is the backend's word until its own chain bears it out: the block at that height on
 * its main chain must be the block named, and that block (its transactions checked against its header
 * by the backend client) must hold the transaction.
 */
async function checkConfirmation(
  backend: BitcoinBackend,
  txid: string,
  c: BundleConfirmation,
  blocks: Map<string, Promise<Set<string> | undefined>>,
): Promise<void> {
  const main = await backend.getBlockHash(c.height);
  if (main !== c.blockHash) {
    throw new DisputeConfirmationError(
      `the Bitcoin backend says ${txid} confirmed in ${c.blockHash} at height ${c.height}, but its chain has ${main ?? 'no block'} there`,
    );
  }
  let txids = blocks.get(c.blockHash);
  if (txids === undefined) {
    txids = backend
      .getBlock(c.blockHash)
      .then((b) => (b === undefined ? undefined : new Set(b.txs.map((t) => t.txid))));
    blocks.set(c.blockHash, txids);
  }
  if (!(await txids)?.has(txid)) {
    throw new DisputeConfirmationError(
      `the Bitcoin backend says ${txid} confirmed in ${c.blockHash}, but that block does not hold it`,
    );
  }
}

class TxCache {
  private readonly byTxid = new Map<string, Promise<{ raw: Uint8Array; tx: Tx; status: TxStatus }>>();
  constructor(private readonly backend: BitcoinBackend) {}

  get(txid: string, why: string): Promise<{ raw: Uint8Array; tx: Tx; status: TxStatus }> {
    let p = this.byTxid.get(txid);
    if (p === undefined) {
      p = this.fetch(txid, why);
      this.byTxid.set(txid, p);
    }
    return p;
  }

  put(txid: string, v: { raw: Uint8Array; tx: Tx; status: TxStatus }): void {
    this.byTxid.set(txid, Promise.resolve(v));
  }

  private async fetch(txid: string, why: string) {
    const got = await this.backend.getTransaction(txid);
    if (got === undefined) {
      throw new DisputeTxUnavailableError(`the Bitcoin backend does not know ${txid} (${why})`, {
        metaMessages: [
          'A Bitcoin Core backend needs -txindex to serve confirmed transactions that are not its own.',
        ],
      });
    }
    const tx = outsideRetry(this.backend.kind, () => verifiedTx(this.backend.kind, txid, got.raw));
    return { raw: got.raw, tx, status: got.status };
  }
}

/**
 * Parents before children: discovery order, except that a transaction waits for every parent in the
 * set (a spender found early can also spend a transaction found later in the walk).
 */
function parentsFirst(found: Found[]): Found[] {
  const index = new Map(found.map((f, i) => [f.txid, i]));
  const placed = new Set<string>();
  const out: Found[] = [];
  while (out.length < found.length) {
    const next = found.find(
      (f) =>
        !placed.has(f.txid) &&
        f.tx.inputs.every((i) => {
          const parent = hashToHex(i.prevTxid);
          return !index.has(parent) || placed.has(parent) || parent === f.txid;
        }),
    );
    // A cycle is impossible between real transactions; take the first left rather than loop.
    const pick = next ?? (found.find((f) => !placed.has(f.txid)) as Found);
    placed.add(pick.txid);
    out.push(pick);
  }
  return out;
}

/**
 * Every Bitcoin transaction of the dispute kicked off by `kickoffTxid`: the claim transaction, the
 * kick-off, then its spenders breadth-first, parents before children, each with its confirmation
 * (undefined in the mempool) and its prevouts.
 */
export async function collectDisputeTransactions(
  backend: BitcoinBackend,
  o: CollectOptions,
): Promise<BundleTx[]> {
  const maxTxs = o.maxTxs ?? DEFAULT_MAX_DISPUTE_TXS;
  const maxDepth = o.maxDepth ?? DEFAULT_MAX_DISPUTE_DEPTH;
  const g = o.graph ? graphOutpoints(o.graph) : undefined;
  const cache = new TxCache(backend);
  const blocks = new Map<string, Promise<Set<string> | undefined>>();
  const found: Found[] = [];
  const seen = new Set<string>();
  const add = (f: Found): void => {
    if (seen.has(f.txid)) return;
    if (found.length >= maxTxs) {
      throw new DisputeTooLargeError(
        `the dispute of kick-off ${o.kickoffTxid} has more than ${maxTxs} Bitcoin transactions`,
        { metaMessages: ['Raise the limit (maxTxs) if the dispute really is that large.'] },
      );
    }
    seen.add(f.txid);
    found.push(f);
  };

  const kickoff = await cache.get(o.kickoffTxid, 'the kick-off');
  // The claim: the transaction whose output the kick-off spends (others, if any, funded it too).
  const claimKey = g?.claim;
  for (const [n, input] of kickoff.tx.inputs.entries()) {
    if (isNullOutpoint(input)) continue;
    const parentTxid = hashToHex(input.prevTxid);
    const parent = await cache.get(parentTxid, `spent by the kick-off's input ${n}`);
    const isClaim = claimKey !== undefined ? outpointKey(parentTxid, input.vout) === claimKey : n === 0;
    add({ txid: parentTxid, ...parent, role: isClaim ? 'claim' : 'funding', depth: -1 });
  }
  add({ txid: o.kickoffTxid, ...kickoff, role: 'kickoff', depth: 0 });

  // Breadth-first over the spenders: `found` grows while it is walked.
  for (let at = 0; at < found.length; at++) {
    const parent = found[at] as Found;
    if (parent.depth < 0 || parent.depth >= maxDepth) continue;
    if (g !== undefined && parent.role === 'other') continue;
    for (let vout = 0; vout < parent.tx.outputs.length; vout++) {
      const spend = await verifiedOutspend(backend, parent.txid, vout);
      if (!spend.spent) continue;
      if (spend.txid === undefined) {
        throw new DisputeTxUnavailableError(
          `the Bitcoin backend says ${parent.txid}:${vout} is spent but cannot name the spender`,
        );
      }
      if (seen.has(spend.txid)) continue;
      const s = spend.spender;
      cache.put(s.txid, { raw: s.raw, tx: s.tx, status: s.status });
      add({
        txid: s.txid,
        raw: s.raw,
        tx: s.tx,
        status: s.status,
        role: g !== undefined ? roleInGraph(s.tx, s.txid, g) : 'other',
        depth: parent.depth + 1,
      });
    }
  }

  const out: BundleTx[] = [];
  for (const f of parentsFirst(found)) {
    const prevouts: BundlePrevout[] = [];
    for (const [n, input] of f.tx.inputs.entries()) {
      // A coinbase spends nothing: no prevout to verify it against.
      if (isNullOutpoint(input)) continue;
      const parentTxid = hashToHex(input.prevTxid);
      const parent = await cache.get(parentTxid, `spent by ${f.txid} input ${n}`);
      const spent = parent.tx.outputs[input.vout];
      if (spent === undefined) {
        throw new DisputeTxUnavailableError(
          `${f.txid} input ${n} spends ${parentTxid}:${input.vout}, an output that transaction does not have`,
        );
      }
      prevouts.push({ value: spent.value, script: spent.script });
    }
    const confirmation = confirmationOf(f.status);
    if (confirmation !== undefined) await checkConfirmation(backend, f.txid, confirmation, blocks);
    out.push({ role: f.role, txid: f.txid, raw: f.raw, confirmation, prevouts });
  }
  return out;
}
