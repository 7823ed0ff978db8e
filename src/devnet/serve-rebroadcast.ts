/**
 * Before a restarted served operator takes its coins back: every open claim's funding and kick-off must
 * be on the chain or in the mempool. A mempool lost with the process (it is saved at a clean stop only)
 * is sent again from the journal, so no claim is left half made and no coin it spent is spent twice.
 * Shared by Part II's served claims (serve.ts) and the game's (serve-game.ts). A funding whose coin
 * was spent in a block by another transaction can never be sent (`fundingLost`): its claim is over.
 */
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { hashToDisplayHex, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import type { Say } from './run-context.ts';

/** One journaled transaction of a claim: its epoch, what it is, its txid and its bytes. */
export type JournaledTx = {
  readonly epoch: bigint | string;
  readonly what: 'funding' | 'kick-off';
  readonly txid: string;
  readonly raw: Uint8Array;
};

export async function rebroadcastLost(
  bitcoin: DevnetBitcoin,
  txs: readonly JournaledTx[],
  say: Say,
): Promise<void> {
  for (const t of txs) {
    if ((await bitcoin.backend.getTxStatus(t.txid)) !== undefined) continue;
    try {
      await bitcoin.backend.broadcast(t.raw);
      say(`bitcoin: epoch ${t.epoch}'s ${t.what} was lost with the mempool; broadcast it again`);
    } catch (err) {
      say(
        `bitcoin: epoch ${t.epoch}'s ${t.what} was lost and is refused now (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

/**
 * Why a claim's funding can never be sent, if it cannot: neither on the chain nor in the mempool, and a
 * coin it spends is spent in a block by another transaction (a pool that handed the coin out again after
 * a restart lost the mempool), or is the change of a funding in `lost` (fundings chain on each other's
 * change). Undefined while it is known, or could still be sent.
 */
export async function fundingLost(
  backend: BitcoinBackend,
  funding: Tx,
  lost: ReadonlySet<string> = new Set(),
): Promise<string | undefined> {
  const id = txidHex(funding);
  if ((await backend.getTxStatus(id)) !== undefined) return undefined;
  for (const input of funding.inputs) {
    const coin = hashToDisplayHex(input.prevTxid);
    if (lost.has(coin))
      return `its funding ${id.slice(0, 12)}… can never be sent: it spends the change of ${coin.slice(0, 12)}…, a funding that never can be`;
    const out = await backend.getOutspend(coin, input.vout);
    if (out.spent && out.txid !== id && out.status?.confirmed === true) {
      return `its funding ${id.slice(0, 12)}… can never be sent: its coin ${coin.slice(0, 12)}…:${input.vout} was spent by ${out.txid ?? 'another transaction'} in block ${out.status.blockHeight}`;
    }
  }
  return undefined;
}
