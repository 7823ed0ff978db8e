/**
 * What the devnet operator lends a strategy's hooks (strategies/types.ts): its chain, its wallet and
 * coins, read-only views of its claims, a broadcast that reports refusals instead of throwing, its own
 * presigned take, and a voice in the story.
 */
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import { serializeTx } from '../bitcoin/tx/serialize.ts';
import { completeTake } from '../dispute/graph/spend.ts';
import { viewOf } from './operator-claims.ts';
import type { OperatorContext } from './operator-context.ts';
import { sendOwn } from './operator-reactions.ts';
import type { OperatorApi } from './strategies/types.ts';

/** The strategy's view of the operator, writing its story lines to `lines`. */
export function strategyApi(ctx: OperatorContext, lines: string[]): OperatorApi {
  const { bitcoin, backend, params, funding, claims, logger, market } = ctx;
  return {
    bitcoin,
    params,
    next: () => ctx.next(),
    claims: () => [...claims.all()].map(viewOf),
    wallet: funding.wallet,
    takeCoin: (value) => funding.pool.take(value),
    returnCoin: (coin) => funding.pool.add(coin),
    broadcast: async (tx, what) => {
      try {
        const id = await backend.broadcast(serializeTx(tx));
        logger?.info({ what, txid: id }, 'devnet operator strategy broadcast');
        return { ok: true, txid: id };
      } catch (err) {
        if (!(err instanceof BroadcastRejectedError)) throw err;
        logger?.warn({ what, reason: err.reason }, 'devnet operator strategy broadcast refused');
        return { ok: false, reason: err.reason };
      }
    },
    sendTake: async (v, why) => {
      const c = claims.get(v.epoch);
      if (c) await sendOwn(ctx, c, 'take', completeTake(c.graph, c.sigs).tx, why, lines);
    },
    say: (line) => lines.push(line),
    market,
  };
}
