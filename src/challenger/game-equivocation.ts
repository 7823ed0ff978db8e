/**
 * The equivocation watch of Vigil's game (docs/protocol.md §24.7; §24.9's `game-equivocation`). A move is
 * a presigned transaction, so its txid is fixed and only its witness can vary: an operator that wants one
 * value seen and another mined broadcasts one version and has a miner (or a reorg) confirm another. Each
 * run keeps the first version it sees of every operator move (mempool or block, its signatures verified)
 * beside the record, and compares every later version with it. Two versions that sign different values
 * under one key are the operator's equivocation; while the version on chain is at depth and its output
 * is still open, w proves it through that output's `equivocation:<label>` leaf and the slash takes D.
 *
 * What it cannot catch: a version nobody showed Vigil (seen only by other nodes, replaced before a run).
 * What it never does: accuse on bytes it did not verify (a backend's word is read through the same
 * reader as every move), or on two encodings of one value (compared as values).
 */
import { parseTx, serializeTx, wtxidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { type Equivocation, equivocationSite, findEquivocation } from '../dispute/game/equivocation.ts';
import type { GameGraph } from '../dispute/game/game-graph.ts';
import type { PublishedValue } from '../dispute/game/move-reader.ts';
import { equivocationLeafName } from '../dispute/game/output-leaves.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { type GameProgress, readOperatorVersion } from './game-chain.ts';
import type { GameJobContext, GameMaterial } from './game-context.ts';

/** A proof Vigil can spend now: the leaf on `site`'s output, and the two signatures it checks. */
export type EquivocationProof = {
  readonly site: string;
  readonly leaf: string;
  readonly equivocation: Equivocation;
};

/**
 * The wtxid kept for each (game, move): written once in Redis (the first writer wins), so a process may
 * remember it and skip the store for a version it already compared. Bounded: oldest out.
 */
const keptWtxids = new Map<string, string>();
const KEPT_REMEMBERED = 4_096;

function remember(key: string, wtxid: string): void {
  keptWtxids.set(key, wtxid);
  if (keptWtxids.size > KEPT_REMEMBERED) keptWtxids.delete(keptWtxids.keys().next().value as string);
}

function readable(m: GameMaterial, w: number, id: string, tx: Tx): PublishedValue[] | undefined {
  try {
    return readOperatorVersion(m.claim, w, id, tx);
  } catch {
    // Not this move, or a signature that does not verify: nothing a miner could include, so no evidence.
    return undefined;
  }
}

/** Whether w has written a move that spends `site`'s output (its own next move would conflict with a slash). */
function movedFrom(rec: GameRecord, game: GameGraph, site: string): boolean {
  for (const n of game.nodes.values()) {
    const parent = n.parent ?? 'reserve';
    if (parent === site && rec.sent.has(n.id)) return true;
  }
  return false;
}

/**
 * Keeps the first version of each operator move in `progress`, compares the others with it, records each
 * equivocation found, and returns the proof to send when one is punishable now.
 */
export async function watchEquivocation(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  progress: Pick<GameProgress, 'versions' | 'last' | 'end'>,
): Promise<EquivocationProof | undefined> {
  const game = m.claim.games[rec.w] as GameGraph;
  let proof: EquivocationProof | undefined;
  for (const v of progress.versions) {
    const wtxid = wtxidHex(v.tx);
    const memo = `${rec.id}/${v.id}`;
    if (keptWtxids.get(memo) === wtxid) continue;
    const reading = readable(m, rec.w, v.id, v.tx);
    if (reading === undefined) continue;
    const kept = await ctx.store.keepVersion(rec.id, v.id, { wtxid, raw: serializeTx(v.tx) });
    remember(memo, kept.wtxid);
    if (kept.wtxid === wtxid) {
      await ctx.store.note(
        rec.id,
        { type: 'version-kept', detail: { id: v.id, wtxid } },
        { key: `version-kept-${v.id}` },
      );
      continue;
    }
    const keptReading = readable(m, rec.w, v.id, parseTx(kept.raw));
    if (keptReading === undefined) continue;
    // The version on chain is the one the leaf's published set holds; the other is the leaf's `second`.
    const [onChain, other] = v.deep ? [reading, keptReading] : [keptReading, reading];
    const found = findEquivocation('operator', onChain, other);
    if (found === undefined) continue;
    const site = equivocationSite(v.id);
    const leaf = equivocationLeafName(found.label);
    const leaves = site === 'reserve' ? game.reserveLeaves : game.nodes.get(site)?.leaves;
    const open = progress.end === undefined && progress.last?.id === v.id && !movedFrom(rec, game, site);
    const punishable = v.deep && open && leaves?.has(leaf) === true;
    const first = await ctx.store.note(
      rec.id,
      {
        type: 'equivocation',
        detail: {
          id: v.id,
          label: found.label,
          onChain: v.deep ? wtxid : kept.wtxid,
          other: v.deep ? kept.wtxid : wtxid,
          punishable,
        },
      },
      { key: `equivocation-${v.id}-${wtxid}-${punishable}` },
    );
    if (first.status === 'applied') {
      ctx.logger?.warn(
        { game: rec.id, move: v.id, label: found.label, punishable },
        'the operator signed two values under one key',
      );
    }
    if (punishable && proof === undefined) proof = { site, leaf, equivocation: found };
  }
  return proof;
}
