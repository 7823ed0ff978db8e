/**
 * The devnet operator's side of the graph, once per block: it takes the stake back when nobody challenged
 * within the challenge window, asserts its trace when challenged (or, as a strategy may decide, waits or
 * never does), and takes the payout when nobody disproved within the disprove window. Each claim's change
 * of state becomes one story line.
 */
import { BroadcastRejectedError } from '../bitcoin/backends/errors.ts';
import { serializeTx, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { completeAssert, completePayout, completeTake } from '../dispute/graph/spend.ts';
import { stateOf, type TrackedClaim, viewOf } from './operator-claims.ts';
import type { OperatorContext } from './operator-context.ts';
import type { OperatorApi, SendKind } from './strategies/types.ts';

export const short = (h: string): string => `${h.slice(0, 12)}…`;

/** Broadcasts one of the operator's graph transactions; a refusal is a line, not a failure. */
export async function sendOwn(
  ctx: OperatorContext,
  c: TrackedClaim,
  kind: SendKind,
  tx: Tx,
  why: string,
  lines: string[],
): Promise<void> {
  const { backend, logger } = ctx;
  try {
    await backend.broadcast(serializeTx(tx));
    c.sent.add(kind);
    lines.push(`epoch ${c.epoch}: ${why} — broadcast the ${kind} ${short(txidHex(tx))}`);
    logger?.info({ epoch: c.epoch.toString(), kind, txid: txidHex(tx) }, 'devnet operator broadcast');
  } catch (err) {
    if (!(err instanceof BroadcastRejectedError)) throw err;
    lines.push(`epoch ${c.epoch}: the ${kind} was refused (${err.reason})`);
    logger?.warn(
      { epoch: c.epoch.toString(), kind, reason: err.reason },
      'devnet operator broadcast refused',
    );
  }
}

/** What to do when challenged this block: the strategy's answer, or the behaviour's default. */
function assertDecision(
  ctx: OperatorContext,
  c: TrackedClaim,
  api: OperatorApi,
): readonly Uint8Array[] | 'wait' | 'never' {
  if (ctx.hooks.assert) return ctx.hooks.assert(viewOf(c), api);
  return ctx.behaviour === 'never-assert' ? 'never' : c.checkpoints.slice(0, ctx.params.traceSteps);
}

/** One block's reactions, after the chain was scanned: the strategy's round, then every claim in turn. */
export async function reactToChain(ctx: OperatorContext, api: OperatorApi, lines: string[]): Promise<void> {
  const next = ctx.next();
  const t = ctx.params.timelocks;
  await ctx.hooks.round?.(api);
  for (const c of ctx.claims.all()) {
    const state = stateOf(c);
    if (
      state === 'kicked-off' &&
      c.kickoffHeight !== undefined &&
      next >= c.kickoffHeight + c.graph.spec.params.timelocks.challengeWindow
    ) {
      await sendOwn(
        ctx,
        c,
        'take',
        completeTake(c.graph, c.sigs).tx,
        'unchallenged for the challenge window',
        lines,
      );
    } else if (state === 'challenged' && !c.sent.has('assert') && !c.neverAssert) {
      const decision = assertDecision(ctx, c, api);
      if (decision === 'never') c.neverAssert = true;
      else if (decision !== 'wait') {
        const assert = completeAssert(c.graph, c.sigs, c.traceSecrets, decision).tx;
        await sendOwn(ctx, c, 'assert', assert, `challenged by ${short(c.spent.a ?? '')}`, lines);
      }
    } else if (
      state === 'asserted' &&
      c.assertHeight !== undefined &&
      c.spent.d === undefined &&
      next >= c.assertHeight + t.disproveWindow
    ) {
      await sendOwn(
        ctx,
        c,
        'payout',
        completePayout(c.graph, c.sigs).tx,
        'undisproved for the disprove window',
        lines,
      );
    }
    reportChange(c, lines);
  }
}

/** Tells what the chain did to a claim since the last block, once per change of state. */
function reportChange(c: TrackedClaim, lines: string[]): void {
  const now = stateOf(c);
  if (now === c.reported) return;
  if (now === 'challenged') {
    lines.push(
      `epoch ${c.epoch}: challenged by ${short(c.spent.a ?? '')}${c.neverAssert ? '; it will not assert' : ''}`,
    );
  } else if (now === 'slashed') {
    lines.push(`epoch ${c.epoch}: slashed — the stake was spent by ${short(c.spent.s ?? '')}`);
  } else if (now === 'disproved') {
    lines.push(`epoch ${c.epoch}: disproved — the asserted stake was spent by ${short(c.spent.d ?? '')}`);
  }
  c.reported = now;
}
