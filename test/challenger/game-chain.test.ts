/**
 * A game read through a Bitcoin backend (src/challenger/game-chain.ts), over the simnet's Esplora and
 * Core RPC fronts: both sides of a claim's game take their turns (game-turn.ts) from nothing but what the
 * backend shows, Vigil's moves go out through the backend's broadcast, and the reader names the moves at
 * depth, the one still too shallow, and what ended the game: Vigil's slash, Vigil's timeout of a silent
 * operator, or the operator's sweep of a silent challenger's pot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../src/bitcoin/backends/core-rpc.ts';
import { EsploraBackend } from '../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../src/bitcoin/backends/types.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { serializeTx, txidHex } from '../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../src/bitcoin/tx/types.ts';
import { type GameProgress, readGameProgress } from '../../src/challenger/game-chain.ts';
import { completeChallenge } from '../../src/dispute/game/claim-spend.ts';
import { nextTurn, SILENT_CHALLENGER, SILENT_OPERATOR } from '../../src/dispute/game/game-turn.ts';
import { REGTEST_SEARCH } from '../../src/dispute/game/grid.ts';
import { moveTx, slashTx, timeoutSlashTx } from '../../src/dispute/game/move-tx.ts';
import type { GameContext } from '../../src/dispute/game/moves.ts';
import { ruleChallenger } from '../../src/dispute/game/rule.ts';
import { gameFixtureOf, kickoffSignaturesOf } from '../../testkit/dispute/claim-fixture.ts';
import { MINER, MOVES_TO_REVEAL } from '../dispute/game/chain-play.ts';
import {
  assertOf,
  type ClaimChain,
  claimChain,
  kickoffOf,
  L2_BLOCK,
  operatorSweep,
} from '../dispute/game/claim-chain.ts';
import { contextOf, operatorOf, smallEpoch } from '../dispute/game/setup.ts';

const shape = REGTEST_SEARCH;
const epoch = smallEpoch();
const claimed = epoch.honest.result ^ 1n;
const ctx: GameContext = contextOf(epoch, claimed);

let sim: Simnet | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

type Front = 'esplora' | 'rpc';

async function setUp(front: Front): Promise<{ c: ClaimChain; backend: BitcoinBackend }> {
  let now = 1_700_000_000;
  sim = await startSimnet({ clock: () => (now += 600) });
  const backend: BitcoinBackend =
    front === 'rpc'
      ? new CoreRpcBackend({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: { attempts: 1 } })
      : new EsploraBackend({ baseUrl: sim.esploraUrl, retry: { attempts: 1 } });
  // One challenger: the reader follows one game; the claim graph tests cover several.
  const c = claimChain(epoch, 1, sim.chain);
  const send = async (tx: Tx) => {
    await backend.broadcast(serializeTx(tx));
    c.chain.mine(MINER);
  };
  await send(kickoffOf(c, claimed));
  await send(completeChallenge(c.graph, 0, c.sigs, c.fx.secrets.challengers[0] as Uint8Array));
  const move = operatorOf(shape, epoch).assert();
  if (move === undefined) throw new Error('no assert');
  const assert = assertOf(c, move);
  for (let i = 0; i < c.fx.spec.timelocks.challenge; i++) c.chain.mine(MINER);
  await send(assert);
  return { c, backend };
}

/**
 * Plays game 0 with each side reading only the backend, until `stop` says so or neither side can move;
 * every transaction goes out through the backend and is mined at once unless `shallow` (mined after the
 * next read).
 */
async function play(
  c: ClaimChain,
  backend: BitcoinBackend,
  stop: (p: GameProgress, side: 'operator' | 'challenger', id: string) => boolean,
): Promise<{ progress: GameProgress; sent: string[] }> {
  const game = c.graph.games[0];
  if (game === undefined) throw new Error('no game');
  const gfx = gameFixtureOf(c.fx, c.graph, 0);
  const sigs = c.gameSigs[0];
  if (sigs === undefined) throw new Error('no signatures');
  const sent: string[] = [];
  for (let guard = 0; guard < 60; guard++) {
    const progress = await readGameProgress(backend, c.graph, 0, 1);
    if (progress.end !== undefined) return { progress, sent };
    const vigil = nextTurn(ctx, shape, progress.onChain, {
      operator: SILENT_OPERATOR,
      challenger: ruleChallenger(ctx, shape, epoch.view),
    });
    const op = nextTurn(ctx, shape, progress.onChain, {
      operator: operatorOf(shape, epoch),
      challenger: SILENT_CHALLENGER,
    });
    let tx: Tx | undefined;
    if (vigil.kind === 'move') {
      if (stop(progress, 'challenger', vigil.id)) return { progress, sent };
      tx = moveTx(
        game,
        sigs,
        vigil.id,
        vigil.values,
        progress.published,
        gfx.sign.challenger,
        gfx.secrets.challenger,
      );
      sent.push(vigil.id);
    } else if (vigil.kind === 'disprove') {
      const kickoff = kickoffSignaturesOf(c.fx, {
        root: claimed,
        l2BlockHash: L2_BLOCK,
        imageRoot: epoch.tape.imageRoot,
        inputsRoot: epoch.tape.inputRoot,
      });
      tx = slashTx(
        game,
        sigs,
        vigil.site,
        vigil.leaf,
        { ...progress.published, kickoff },
        gfx.secrets.challenger,
        vigil.extras,
      );
      sent.push(`slash:${vigil.site}`);
    } else if (op.kind === 'move') {
      if (stop(progress, 'operator', op.id)) return { progress, sent };
      tx = moveTx(game, sigs, op.id, op.values, progress.published, gfx.sign.operator);
      sent.push(op.id);
    } else {
      return { progress, sent };
    }
    await backend.broadcast(serializeTx(tx));
    c.chain.mine(MINER);
  }
  throw new Error('the game did not end in 60 turns');
}

describe('a game read through a backend', () => {
  for (const front of ['esplora', 'rpc'] as const) {
    it(`${front}: both sides play from the backend alone; the reader names Vigil's slash as the end and D as spent`, async () => {
      const { c, backend } = await setUp(front);
      const { progress, sent } = await play(c, backend, () => false);
      expect(sent).toEqual([...MOVES_TO_REVEAL, 'slash:reveal']);
      expect(progress.last?.id).toBe('reveal');
      expect(progress.end).toMatchObject({ site: 'reveal', by: 'slash:reveal' });
      expect(progress.stakeSpent?.txid).toBe(progress.end?.txid);
      expect([...progress.onChain.moves.keys()]).toEqual(sent.slice(0, -1));
    });
  }

  it('a move mined one block ago is shallow at two confirmations and counted at one', async () => {
    const { c, backend } = await setUp('esplora');
    await play(c, backend, (_, side, id) => side === 'operator' && id === 'answer2');
    const two = await readGameProgress(backend, c.graph, 0, 2);
    expect(two.last?.id).toBe('assert');
    expect(two.shallow).toEqual(['choice1']);
    const one = await readGameProgress(backend, c.graph, 0, 1);
    expect(one.last).toMatchObject({ id: 'choice1' });
    expect(one.published.challenger.has('choice1')).toBe(true);
  });

  it('the operator silent at answer 3: Vigil’s timeout slash after t, which the reader names', async () => {
    const { c, backend } = await setUp('esplora');
    const { progress } = await play(c, backend, (_, side, id) => side === 'operator' && id === 'answer3');
    expect(progress.last?.id).toBe('choice2');
    const game = c.graph.games[0];
    if (game === undefined) throw new Error('no game');
    const timeout = timeoutSlashTx(
      game,
      c.gameSigs[0] as never,
      'choice2',
      c.fx.secrets.challengers[0] as Uint8Array,
    );
    const tip = await backend.getTipHeight();
    // t blocks from the choice's own block: the reader's `last.height` is where Vigil's clock starts.
    for (let h = tip; h < (progress.last?.height as number) + c.fx.spec.timelocks.move - 1; h++)
      c.chain.mine(MINER);
    await backend.broadcast(serializeTx(timeout));
    // In the mempool it is not the end yet: the reader waits for depth.
    const before = await readGameProgress(backend, c.graph, 0, 1);
    expect(before.end).toBeUndefined();
    expect(before.shallow).toEqual(['timeout:choice2']);
    c.chain.mine(MINER);
    const after = await readGameProgress(backend, c.graph, 0, 1);
    expect(after.end).toMatchObject({ site: 'choice2', by: 'timeout:choice2', txid: txidHex(timeout) });
  });

  it('w silent after answer 2: the operator sweeps the pot through its timeout leaf, which the reader names', async () => {
    const { c, backend } = await setUp('esplora');
    const { progress } = await play(c, backend, (_, side, id) => side === 'challenger' && id === 'choice2');
    expect(progress.last?.id).toBe('answer2');
    const game = c.graph.games[0];
    if (game === undefined) throw new Error('no game');
    for (let i = 0; i < c.fx.spec.timelocks.move; i++) c.chain.mine(MINER);
    await backend.broadcast(serializeTx(operatorSweep(c, 0, 'answer2')));
    c.chain.mine(MINER);
    const after = await readGameProgress(backend, c.graph, 0, 1);
    expect(after.end).toMatchObject({ site: 'answer2', by: 'timeout' });
    expect(after.stakeSpent).toBeUndefined();
  });
});
