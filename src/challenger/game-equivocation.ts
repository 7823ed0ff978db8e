/**
 * The equivocation watch of Vigil's game (docs/protocol.md §24.7; §24.9's `game-equivocation`). A move is
 * a presigned transaction, so its txid is fixed and only its witness can vary: an operator that wants one
 * value seen and another mined broadcasts one version and has a miner (or a reorg) confirm another. Each
 * run keeps every version it sees of every operator move (mempool or block, its signatures verified)
 * beside the record, and compares the version at depth with the others. Two versions that sign different
 * values under one key are the operator's equivocation; while the version on chain is at depth and its
 * output is still open, w proves it through that output's `equivocation:<label>` leaf and the slash
 * takes D.
 *
 * What it cannot catch: a version nobody showed Vigil (seen only by other nodes, replaced before a run).
 * What it never does: accuse on bytes it did not verify (a backend's word is read through the same
 * reader as every move), or on two encodings of one value (compared as values).
 */
import { verifiedTx } from '../bitcoin/backends/verify.ts';
import { parseTx, serializeTx, txidHex, wtxidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { type Equivocation, equivocationSite, findEquivocation } from '../dispute/game/equivocation.ts';
import { type GameGraph, gameTx } from '../dispute/game/game-graph.ts';
import type { PublishedValue } from '../dispute/game/move-reader.ts';
import { equivocationLeafName } from '../dispute/game/output-leaves.ts';
import type { GameRecord } from '../dispute/records/game-types.ts';
import { type GameProgress, readMoveVersion } from './game-chain.ts';
import type { GameJobContext, GameMaterial } from './game-context.ts';

/** A proof Vigil can spend now: the leaf on `site`'s output, and the two signatures it checks. */
export type EquivocationProof = {
  readonly site: string;
  readonly leaf: string;
  readonly equivocation: Equivocation;
};

/**
 * Each pair of versions this process compared, with what the comparison found (bounded, oldest out): it
 * depends only on the two transactions, which their wtxids fix.
 */
const comparedHere = new Map<string, Equivocation | null>();
const REMEMBERED = 4_096;

function readable(m: GameMaterial, w: number, id: string, tx: Tx): PublishedValue[] | undefined {
  try {
    return readMoveVersion(m.claim, w, id, tx);
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

/** The equivocation between `reading` (the version at depth) and the kept version `other`, if any. */
async function compare(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  id: string,
  wtxid: string,
  reading: readonly PublishedValue[],
  other: string,
): Promise<Equivocation | undefined> {
  const memo = `${rec.id}/${id}@${wtxid}/${other}`;
  const known = comparedHere.get(memo);
  if (known !== undefined) return known ?? undefined;
  const kept = await ctx.store.keptVersion(rec.id, id, other);
  const otherReading = kept === undefined ? undefined : readable(m, rec.w, id, parseTx(kept.raw));
  const found = otherReading === undefined ? undefined : findEquivocation('operator', reading, otherReading);
  comparedHere.set(memo, found ?? null);
  if (comparedHere.size > REMEMBERED) comparedHere.delete(comparedHere.keys().next().value as string);
  return found;
}

/**
 * Keeps every version of an operator move in `progress` that verifies, compares each version at depth
 * with every other kept version of its move, records each equivocation found, and returns the proof to
 * send when one is punishable now. Every version is kept, not only the first: the one at depth may change
 * with a reorg, and whichever version the chain then holds is compared with the others.
 */
export async function watchEquivocation(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  progress: Pick<GameProgress, 'versions' | 'last' | 'end'>,
): Promise<EquivocationProof | undefined> {
  const game = m.claim.games[rec.w] as GameGraph;
  // The kept versions' names are read at every run (one HKEYS); bytes only for a version not kept yet.
  let keptIds = await ctx.store.keptWtxids(rec.id);
  let added = false;
  for (const v of progress.versions) {
    const wtxid = wtxidHex(v.tx);
    if (keptIds.get(v.id)?.includes(wtxid)) continue;
    if (readable(m, rec.w, v.id, v.tx) === undefined) continue;
    const kept = await ctx.store.keepVersion(rec.id, v.id, { wtxid, raw: serializeTx(v.tx) });
    if (kept === 'kept') {
      added = true;
      await ctx.store.note(
        rec.id,
        { type: 'version-kept', detail: { id: v.id, wtxid } },
        { key: `version-kept-${v.id}-${wtxid}` },
      );
    }
  }
  const deep = progress.versions.filter((v) => v.deep);
  if (deep.length === 0) return undefined;
  if (added) keptIds = await ctx.store.keptWtxids(rec.id);
  let proof: EquivocationProof | undefined;
  for (const v of deep) {
    const wtxid = wtxidHex(v.tx);
    const reading = readable(m, rec.w, v.id, v.tx);
    if (reading === undefined) continue;
    for (const other of keptIds.get(v.id) ?? []) {
      if (other === wtxid) continue;
      const found = await compare(ctx, rec, m, v.id, wtxid, reading, other);
      if (found === undefined) continue;
      const site = equivocationSite(v.id);
      const leaf = equivocationLeafName(found.label);
      const leaves = site === 'reserve' ? game.reserveLeaves : game.nodes.get(site)?.leaves;
      const open = progress.end === undefined && progress.last?.id === v.id && !movedFrom(rec, game, site);
      const punishable = open && leaves?.has(leaf) === true;
      const noted = await ctx.store.note(
        rec.id,
        {
          type: 'equivocation',
          detail: { id: v.id, label: found.label, onChain: wtxid, other, punishable },
        },
        { key: `equivocation-${v.id}-${wtxid}-${other}-${punishable}` },
      );
      if (noted.status === 'applied') {
        ctx.logger?.warn(
          { game: rec.id, move: v.id, label: found.label, punishable },
          'the operator signed two values under one key',
        );
      }
      if (punishable && proof === undefined) proof = { site, leaf, equivocation: found };
      break;
    }
  }
  return proof;
}

/**
 * Keeps the version of the assert the backend shows, in the states before the game is played (the
 * challenge on its way, the assert awaited, the assert-timeout racing it): a decoy shown then and
 * replaced by the block is the evidence the game needs later.
 */
export async function keepAssertVersion(
  ctx: GameJobContext,
  rec: GameRecord,
  m: GameMaterial,
  /** The assert as the caller already fetched it (fetched here when not given). */
  fetched?: { readonly raw: Uint8Array },
): Promise<void> {
  const txid = txidHex(gameTx(m.claim, 'assert').tx);
  const found = fetched ?? (await ctx.backend.getTransaction(txid));
  if (found === undefined) return;
  let tx: Tx;
  try {
    tx = verifiedTx(ctx.backend.kind, txid, found.raw);
  } catch {
    return; // bytes that are not the assert prove nothing
  }
  await watchEquivocation(ctx, rec, m, { versions: [{ id: 'assert', tx, deep: false }], last: undefined });
}
