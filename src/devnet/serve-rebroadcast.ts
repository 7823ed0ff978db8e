/**
 * Before a restarted served operator takes its coins back: every open claim's funding and kick-off must
 * be on the chain or in the mempool. A mempool lost with the process (it is saved at a clean stop only)
 * is sent again from the journal, so no claim is left half made and no coin it spent is spent twice.
 * Shared by Part II's served claims (serve.ts) and the game's (serve-game.ts).
 */
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
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
