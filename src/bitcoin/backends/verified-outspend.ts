/**
 * "Output X is spent by T", checked against T itself rather than taken on the backend's word.
 *
 * A hostile backend could name any txid as the spender of a connector, e.g. to make a watcher believe
 * another watcher already challenged and stand down. So the spender is fetched, its bytes are hashed to
 * the txid the backend named (whatever the backend object is: this does not rely on the backend's own
 * checks), and one of its inputs must spend X.
 *
 * What stays the backend's word: that an unspent output is unspent (absence cannot be proven by
 * showing a transaction), and the spender's status (mempool or which block).
 */
import { hashToHex, txidHex } from '../codec/codec.ts';
import { BackendLiedError, BackendUnavailableError } from './errors.ts';
import type { BitcoinBackend, TxWithStatus } from './types.ts';
import { outsideRetry, verifiedTx } from './verify.ts';

export type VerifiedOutspend =
  | { spent: false }
  /** The backend knows the output is spent but not by whom (Core past its lookback): nothing to check. */
  | { spent: true; txid: undefined; vin: undefined; spender: undefined }
  /** `spender` hashes to `txid`, and its input `vin` spends the output. */
  | { spent: true; txid: string; vin: number; spender: TxWithStatus };

export async function verifiedOutspend(
  backend: BitcoinBackend,
  txid: string,
  vout: number,
): Promise<VerifiedOutspend> {
  const claim = await backend.getOutspend(txid, vout);
  if (!claim.spent) return { spent: false };
  if (claim.txid === undefined) return { spent: true, txid: undefined, vin: undefined, spender: undefined };
  const named = claim.txid;
  const fetched = await backend.getTransaction(named);
  if (fetched === undefined) {
    // Esplora's indexes can briefly disagree; an unknown spender is no answer yet, not a fact.
    throw new BackendUnavailableError(
      backend.kind,
      `${txid}:${vout} is said to be spent by ${named}, which the backend cannot produce`,
      1,
    );
  }
  // Re-derived from the raw bytes: a backend object's parsed `tx` or `txid` fields are not evidence.
  const tx = outsideRetry(backend.kind, () => verifiedTx(backend.kind, named, fetched.raw));
  const spends = (i: number) => {
    const input = tx.inputs[i];
    return input !== undefined && input.vout === vout && hashToHex(input.prevTxid) === txid;
  };
  const vin =
    claim.vin !== undefined && spends(claim.vin) ? claim.vin : tx.inputs.findIndex((_, i) => spends(i));
  if (vin === -1) {
    throw new BackendLiedError(
      backend.kind,
      'outspend-mismatch',
      `said ${named} spends ${txid}:${vout}, but none of its inputs does`,
    );
  }
  return {
    spent: true,
    txid: named,
    vin,
    spender: { txid: txidHex(tx), raw: fetched.raw, tx, status: fetched.status },
  };
}

/**
 * Whether the chain shows `txid:vout` spent by a transaction the backend produced and that spends it.
 * "Spent" with no spender named (Core past its lookback, or a lie) is no proof and reads false.
 */
export async function spentByVerifiedTx(
  backend: BitcoinBackend,
  txid: string,
  vout: number,
): Promise<boolean> {
  const s = await verifiedOutspend(backend, txid, vout);
  return s.spent && s.txid !== undefined;
}
