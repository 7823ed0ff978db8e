/**
 * Pinning connector A. Right after a wrong kick-off, the operator spends A itself through the graph's
 * presigned challenge leaf, funding that challenge from its own coins at the relay minimum (output 0
 * pays the challenge amount to the operator itself: it costs only the fee), and hangs a large low-fee
 * descendant on its change. The devnet's miner has a floor above that rate (blocks are full), so the pin
 * never confirms; the operator hopes the watcher takes A as "challenged by someone else" and waits, and
 * at the end of the challenge window its take replaces the pin (it pays more than pin and descendant).
 * The watcher must replace the pin with its own challenge, paying for both, in time.
 */
import { txid as txIdOf, txVsize } from '../../bitcoin/tx/serialize.ts';
import { SIGHASH_DEFAULT } from '../../bitcoin/tx/sighash.ts';
import type { Tx, TxOutput } from '../../bitcoin/tx/types.ts';
import { buildChallenge, signKeyPathInput } from '../../dispute/graph/challenge.ts';
import { spendCoin } from '../operator-coins.ts';
import type { ClaimView, OperatorApi, OperatorStrategy } from './types.ts';

/** The miner's floor: the pin (1 sat/vB) stays out, everything the graph presigned gets in. */
const FLOOR_SAT_VB = 3;
/** Outputs of the descendant: ~43 vB each, so ~2,600 vB at 1 sat/vB, hanging on the pin. */
const DESCENDANT_OUTPUTS = 60;

export const pinStrategy: OperatorStrategy = {
  name: 'pin-connector-a',
  doc: 'after a wrong kick-off it spends connector A itself at the relay minimum with a large low-fee descendant, then replaces that pin with its take',
  expect: 'slashed',
  simnetOnly: true,
  market: { floorSatVb: FLOOR_SAT_VB, estimateSatVb: FLOOR_SAT_VB },
  hooks: () => ({
    afterKickoff: async (c, api) => {
      if (c.fraud !== true) return;
      const pin = pinOf(c, api);
      const sent = await api.broadcast(pin.tx, 'pin');
      if (!sent.ok) {
        api.returnCoin(pin.coin);
        api.say(`epoch ${c.epoch}: its pin of connector A was refused (${sent.reason})`);
        return;
      }
      const child = spendCoin(
        { txid: pin.txid, vout: 1, value: pin.change, unconfirmed: new Set() },
        Array.from(
          { length: DESCENDANT_OUTPUTS },
          (): TxOutput => ({ value: 1_000n, script: api.wallet.script }),
        ),
        0n,
        api.wallet,
      );
      // The descendant pays the relay minimum for its own size and not a sat more.
      const sized = spendCoin(
        { txid: pin.txid, vout: 1, value: pin.change, unconfirmed: new Set() },
        child.tx.outputs.slice(0, DESCENDANT_OUTPUTS),
        BigInt(txVsize(child.tx) + 2),
        api.wallet,
      );
      const d = await api.broadcast(sized.tx, 'pin descendant');
      api.say(
        `epoch ${c.epoch}: pinned connector A with its own challenge ${short(sent.txid)} at 1 sat/vB` +
          (d.ok
            ? ` and a ${txVsize(sized.tx)} vB descendant ${short(d.txid)}`
            : ` (descendant refused: ${d.reason})`),
      );
    },
  }),
};

const short = (h: string) => `${h.slice(0, 12)}…`;

/** The graph's challenge, funded by one operator coin at 1 sat/vB, change back to the operator. */
function pinOf(
  c: ClaimView,
  api: OperatorApi,
): { tx: Tx; txid: Uint8Array; change: bigint; coin: ReturnType<OperatorApi['takeCoin']> } {
  const p = api.params;
  const need = p.challengeAmount - p.connectorValue;
  const coin = api.takeCoin(need + 100_000n);
  const build = (change: bigint) => {
    const spend = buildChallenge(
      c.graph,
      c.sigs,
      [{ txid: coin.txid, vout: coin.vout, prevout: { value: coin.value, script: api.wallet.script } }],
      [{ value: change, script: api.wallet.script }],
    );
    signKeyPathInput(spend, 1, api.wallet.secret, SIGHASH_DEFAULT);
    return spend.tx;
  };
  const fee = BigInt(txVsize(build(coin.value - need)) + 2);
  const change = coin.value - need - fee;
  const tx = build(change);
  return { tx, txid: txIdOf(tx), change, coin };
}
