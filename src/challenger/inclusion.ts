/**
 * A confirmation is believed only when the block shows it. A backend that reports a transaction
 * "confirmed in block B" (a hostile Esplora, a proxy, a stale index) would otherwise make Vigil stop
 * bumping a challenge that is still in the mempool, or record a slash that never happened. The block
 * comes back verified by the backend (its header hashes to the hash asked for, its transactions to the
 * header's merkle root), so the transaction being in it at the claimed height is the chain's word.
 */
import type { BitcoinBackend, TxStatus } from '../bitcoin/backends/types.ts';
import type { SendContext, SentTx } from '../sender/send.ts';

export async function confirmationHolds(
  backend: BitcoinBackend,
  txid: string,
  status: Extract<TxStatus, { confirmed: true }>,
): Promise<boolean> {
  const block = await backend.getBlock(status.blockHash);
  if (block === undefined || block.height !== status.blockHeight) return false;
  // The block must be the one the chain has at that height, not a stale branch.
  if ((await backend.getBlockHash(status.blockHeight)) !== status.blockHash) return false;
  return block.txs.some((t) => t.txid === txid);
}

/** `confirmationHolds`, and when it does not: counted as unexplained and logged. */
export async function confirmationBelieved(
  ctx: Pick<SendContext, 'backend' | 'metrics' | 'logger'>,
  dispute: string,
  what: SentTx,
  txid: string,
  status: Extract<TxStatus, { confirmed: true }>,
): Promise<boolean> {
  if (await confirmationHolds(ctx.backend, txid, status)) return true;
  ctx.metrics?.sendConflicts.inc({ tx: what, action: 'unexplained' });
  ctx.logger?.error(
    { dispute, tx: what, txid, blockHash: status.blockHash, height: status.blockHeight },
    'the backend reports a confirmation the block does not hold: not believed',
  );
  return false;
}
