/**
 * Who spent a claim output, read the cheap way first. The graph names the kick-off that spends its
 * claim (a kick-off's txid leaves out its witness, so the graph's unsigned kick-off has the txid of the
 * operator's signed one), so the watcher asks the backend for that one transaction before asking who
 * spent the output: on a backend without a spent index (Core, the simnet) "who spent it" walks blocks
 * back from the tip, which cost a catching-up watcher tens of milliseconds per claim, every claim
 * fetching and hashing the same blocks again.
 *
 * Why this concludes nothing the general path would not: the transaction is believed only as its own
 * bytes (hashed to the txid asked, one of its inputs spending the claim output), exactly as
 * `verifiedOutspend` believes the spender it is told about; and only a confirmed one is taken, since an
 * outpoint is spent once in a chain: a confirmed transaction spending it is its spender. Its status is
 * the backend's word, as it is on the general path. Anything else (unknown, in the mempool, in a stale
 * block, not spending the claim) falls back to `verifiedOutspend`, so an operator that spends its claim
 * with another transaction than the graph's kick-off is found as before.
 */
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { type VerifiedOutspend, verifiedOutspend } from '../bitcoin/backends/verified-outspend.ts';
import { outsideRetry, verifiedTx } from '../bitcoin/backends/verify.ts';
import { hashToHex, txidHex } from '../bitcoin/codec/codec.ts';

export async function claimSpend(
  backend: BitcoinBackend,
  claim: { txid: string; vout: number },
  expectedKickoff: string,
): Promise<VerifiedOutspend> {
  const fetched = await backend.getTransaction(expectedKickoff);
  if (fetched?.status.confirmed) {
    const tx = outsideRetry(backend.kind, () => verifiedTx(backend.kind, expectedKickoff, fetched.raw));
    const vin = tx.inputs.findIndex((i) => i.vout === claim.vout && hashToHex(i.prevTxid) === claim.txid);
    if (vin !== -1) {
      return {
        spent: true,
        txid: expectedKickoff,
        vin,
        spender: { txid: txidHex(tx), raw: fetched.raw, tx, status: fetched.status },
      };
    }
  }
  return verifiedOutspend(backend, claim.txid, claim.vout);
}
