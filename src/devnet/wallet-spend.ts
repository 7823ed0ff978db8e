/**
 * What Vigil's wallet paid during a devnet run, from the chain alone (not from the watcher's records,
 * which an attack may have fooled): the watcher's coins when the run starts, then every block read in
 * order — a transaction spending one of them is Vigil's (its vsize counts towards the fee allowance),
 * an output paying the wallet's script is a coin (change, a disprove or assert-timeout reward). The
 * allowance is what the issue promises: at most the challenge amount per dispute plus fees at the
 * configured cap (fees.maxFeeRateSatVb) for the vbytes Vigil's wallet actually sent.
 */
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import { hashToDisplayHex, txVsize } from '../bitcoin/tx/serialize.ts';
import { equalBytes } from '../core/bytes.ts';

export type WalletSpend = {
  before: bigint;
  after: bigint;
  /** before − after: what left the wallet for good (negative when rewards exceeded the cost). */
  spent: bigint;
  /** disputes × challenge amount + cap × Σ vsize of Vigil's transactions. */
  allowance: bigint;
  feeCapSatVb: number;
  /** Confirmed transactions that spent the wallet's coins. */
  txs: { txid: string; vsize: number }[];
};

export type WalletLedger = {
  close(disputes: number, challengeAmount: bigint, feeCapSatVb: number): Promise<WalletSpend>;
};

export async function openWalletLedger(
  backend: BitcoinBackend,
  address: string,
  script: Uint8Array,
): Promise<WalletLedger> {
  const start = await backend.getTipHeight();
  const coins = new Map<string, bigint>();
  for (const u of await backend.getUtxos(address)) {
    if (u.confirmed && (u.height ?? 0) <= start) coins.set(`${u.txid}:${u.vout}`, u.value);
  }
  const before = [...coins.values()].reduce((a, v) => a + v, 0n);
  return {
    async close(disputes, challengeAmount, feeCapSatVb) {
      const tip = await backend.getTipHeight();
      const txs: WalletSpend['txs'] = [];
      for (let h = start + 1; h <= tip; h++) {
        const block = await backend.getBlock(h);
        if (!block) break;
        for (const { txid, tx } of block.txs) {
          let ours = false;
          for (const i of tx.inputs) {
            if (coins.delete(`${hashToDisplayHex(i.prevTxid)}:${i.vout}`)) ours = true;
          }
          if (ours) txs.push({ txid, vsize: txVsize(tx) });
          tx.outputs.forEach((o, vout) => {
            if (equalBytes(o.script, script)) coins.set(`${txid}:${vout}`, o.value);
          });
        }
      }
      const after = [...coins.values()].reduce((a, v) => a + v, 0n);
      const vbytes = txs.reduce((a, t) => a + t.vsize, 0);
      return {
        before,
        after,
        spent: before - after,
        allowance: BigInt(disputes) * challengeAmount + BigInt(feeCapSatVb) * BigInt(vbytes),
        feeCapSatVb,
        txs,
      };
    },
  };
}
