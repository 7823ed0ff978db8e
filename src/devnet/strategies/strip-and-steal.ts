/**
 * Strip-and-steal of the challenge funding. The operator takes Vigil's challenge from the mempool,
 * keeps Vigil's signed funding inputs and every output (output 0 pays the operator the challenge
 * amount, the rest is Vigil's change), drops input 0 (connector A) and adds a small coin of its own, and
 * broadcasts that as an RBF replacement. If Vigil's funding signatures commit to their own input only
 * (ALL|ANYONECANPAY), the copy is valid: it pays the operator from Vigil's coins and leaves A unspent,
 * so the take stays possible. With SIGHASH_DEFAULT funding the copy fails its signatures.
 */
import { hashToDisplayHex, txid } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Prevout, Tx } from '../../bitcoin/tx/types.ts';
import { signKeyPathInput } from '../../dispute/graph/challenge.ts';
import { spendCoin } from '../operator-coins.ts';
import type { OperatorApi, OperatorStrategy } from './types.ts';

/** Each stolen-copy coin: enough to pay A's 330 sat back and outbid the original's fee. */
const STEAL_COIN = 5_000n;
const STEAL_COINS = 4;

type Small = { txid: Uint8Array; vout: number; value: bigint };

export const stripAndStealStrategy: OperatorStrategy = {
  name: 'strip-and-steal',
  doc: "it copies Vigil's challenge from the mempool without connector A, adds a coin of its own and sends the copy as a replacement",
  expect: 'slashed-by-disprove',
  hooks: () => {
    let split: { txid: string; coins: Small[] } | undefined;
    const tried = new Set<string>();

    /** Small confirmed coins, made once at the start: a replacement may not add unconfirmed inputs. */
    async function prepare(api: OperatorApi): Promise<Small[]> {
      if (split === undefined) {
        const coin = api.takeCoin(STEAL_COIN * BigInt(STEAL_COINS) + 20_000n);
        const outs = Array.from({ length: STEAL_COINS }, () => ({
          value: STEAL_COIN,
          script: api.wallet.script,
        }));
        const { tx } = spendCoin(coin, outs, 2_000n, api.wallet);
        const sent = await api.broadcast(tx, 'steal coins');
        if (!sent.ok) {
          api.returnCoin(coin);
          return [];
        }
        const id = txid(tx);
        split = { txid: sent.txid, coins: outs.map((o, vout) => ({ txid: id, vout, value: o.value })) };
        return [];
      }
      const st = await api.bitcoin.backend.getTxStatus(split.txid);
      return st?.confirmed ? split.coins : [];
    }

    return {
      round: async (api) => {
        const coins = await prepare(api);
        for (const c of api.claims()) {
          if (c.state !== 'kicked-off' || coins.length === 0) continue;
          const spend = await api.bitcoin.backend.getOutspend(c.kickoffTxid, 0);
          if (!spend.spent || spend.txid === undefined || spend.status?.confirmed) continue;
          if (tried.has(spend.txid)) continue;
          tried.add(spend.txid);
          const challenge = await api.bitcoin.backend.getTransaction(spend.txid);
          if (!challenge || challenge.tx.inputs.length < 2) continue;
          const own = coins.shift() as Small;
          const copy = await strip(api, challenge.tx, own);
          const sent = await api.broadcast(copy, 'stripped challenge');
          api.say(
            sent.ok
              ? `epoch ${c.epoch}: stripped Vigil's challenge ${short(spend.txid)} of connector A — its copy ${short(sent.txid)} replaced it`
              : `epoch ${c.epoch}: stripped Vigil's challenge ${short(spend.txid)} of connector A — the copy was refused (${sent.reason})`,
          );
        }
      },
    };
  },
};

const short = (h: string) => `${h.slice(0, 12)}…`;

/** Vigil's inputs 1..n with their witnesses, the same outputs, and the operator's coin signed last. */
async function strip(api: OperatorApi, challenge: Tx, own: Small): Promise<Tx> {
  const kept = challenge.inputs.slice(1).map((i) => ({ ...i, witness: [...i.witness] }));
  const tx: Tx = {
    version: challenge.version,
    locktime: challenge.locktime,
    inputs: [
      ...kept,
      { prevTxid: own.txid, vout: own.vout, scriptSig: new Uint8Array(), sequence: 0xfffffffd, witness: [] },
    ],
    outputs: challenge.outputs.map((o) => ({ ...o })),
  };
  const prevouts: Prevout[] = [];
  for (const i of kept) {
    const parent = await api.bitcoin.backend.getTransaction(hashToDisplayHex(i.prevTxid));
    const out = parent?.tx.outputs[i.vout];
    if (!out) throw new Error(`strip-and-steal: prevout ${hashToDisplayHex(i.prevTxid)}:${i.vout} unknown`);
    prevouts.push({ value: out.value, script: out.script });
  }
  prevouts.push({ value: own.value, script: api.wallet.script });
  signKeyPathInput({ tx, prevouts }, tx.inputs.length - 1, api.wallet.secret, SIGHASH_DEFAULT);
  return tx;
}
