/**
 * Soundness on Bitcoin's rules (#15 acceptance 2, the simnet half): honest operators of the catalogue's
 * epochs against seeded griefing challengers, every move sent as the game's presigned transaction on
 * simnet. After each of the operator's moves confirms, and at Q_w after the assert, the griefer tries
 * every leaf it may spend on that output (every disprove leaf, with every signature published so far,
 * and for the leaves that take an unsigned preimage the honest one and perturbed ones) as the slash of D:
 * simnet refuses each, because its script fails. A leaf whose values are not all published yet cannot be
 * built at all (counted apart). Where the game ends in a refusal, the operator's refusal confirms. The
 * honest operator is never slashed. `npm test` plays 2 games; the long suite 52 (`VIGIL_LONG=1`).
 */
import { describe, expect, it } from 'vitest';
import { preimageBlock } from '../../../circuits/gvm/preimage-leaves.ts';
import { taprootOutput } from '../../../src/bitcoin/taproot/output.ts';
import { hashToDisplayHex } from '../../../src/bitcoin/tx/serialize.ts';
import type { GameGraph } from '../../../src/dispute/game/game-graph.ts';
import { completeSweep, gameOutputOf, signSweep, sweepOutput } from '../../../src/dispute/game/game-spend.ts';
import { choiceFor, REGTEST_SEARCH, roundBits } from '../../../src/dispute/game/grid.ts';
import {
  gameLeafItems,
  LeafWitnessError,
  type PublishedSignatures,
} from '../../../src/dispute/game/leaf-witness.ts';
import type { Preimage } from '../../../src/dispute/game/moves.ts';
import type { ChallengerPlayer } from '../../../src/dispute/game/players.ts';
import type { StepRecord } from '../../../src/machine/isa.ts';
import { PROGRAM_FAULTS } from '../../../src/machine/programs/faults.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { reference } from '../../machine/equivalence.ts';
import { confirm, kickoffSignatures, playEpochOnChain, rejection, slashThrough } from './chain-play.ts';
import { bump, griefer, rng, type Tally } from './griefer.ts';
import { contextOf, type Epoch, honestEpoch, operatorOf } from './setup.ts';

const LONG = process.env.VIGIL_LONG === '1';
const shape = REGTEST_SEARCH;
const R = roundBits(shape).length;
/** Games: a griefer per scenario epoch, round-robin over the 12 catalogue scenarios. */
const GAMES = LONG ? 52 : 2;

/** The preimage blocks a griefer can attach for h at step p: the honest one and perturbed ones. */
function blocksFor(epoch: Epoch, p: number, next: () => number): Uint8Array[] {
  const out: Preimage[] = [];
  const k = Math.max(1, Math.min(p, epoch.honest.steps.length));
  const h = epoch.honest.chain[k - 1] as Uint8Array;
  const record = epoch.honest.steps[k - 1] as StepRecord;
  out.push({ h, record }, { h, record: { ...record, nextPc: record.nextPc + 1 } });
  out.push({ h: Uint8Array.from({ length: 20 }, () => Math.floor(next() * 256)), record });
  return out.map(preimageBlock);
}

/** A griefer that narrows to a tape step of the honest run and asks for its tape path. */
function tapeGriefer(epoch: Epoch, seed: number): ChallengerPlayer {
  const tapeSteps = epoch.honest.steps.flatMap((st, k) =>
    reference.program.instructions[st.pc]?.op === 'tape' ? [k] : [],
  );
  const aim = tapeSteps[seed % tapeSteps.length] as number;
  return {
    onAssert: () => undefined,
    choose: (view, bits) => choiceFor(view.segment, bits, aim),
    onReveal: () => ({ request: 3 }),
    chooseRead: () => undefined,
    onWriteReveal: () => undefined,
    onTapeReveal: () => ({ leaf: 'tape-top' }),
  };
}

/** The output a move's leaves sit on: Q_w for the assert, else the move's own pot. */
const siteOf = (id: string) => (id === 'assert' ? 'reserve' : id);

describe(`an honest operator against griefers on simnet (${GAMES} games)`, () => {
  it('no disprove the griefer can build is accepted; refusals it is owed confirm; D is never slashed', () => {
    const tried: Tally = new Map();
    const ends: Tally = new Map();
    const next = rng(77);
    for (let g = 0; g < GAMES; g++) {
      const fault = PROGRAM_FAULTS[g % PROGRAM_FAULTS.length] as (typeof PROGRAM_FAULTS)[number];
      const { scenario } = (FAULT_CASES[fault] as (typeof FAULT_CASES)[string])();
      const epoch = honestEpoch(scenario.genesis, scenario.inputs);
      const ctx = contextOf(epoch, epoch.honest.result);
      const r = playEpochOnChain(epoch, shape, ctx, operatorOf(shape, epoch), {
        // Every fourth griefer (the second, in npm test) walks the search to a tape step and asks for its tape path, so the tape
        // leaves are tried too (the random griefers rarely land on one).
        challenger:
          g % 4 === 1 ? tapeGriefer(epoch, g) : griefer(ctx, shape, epoch.honest, 9_000 + g, new Map()),
        afterMove(id, signed, game, fx) {
          const site = siteOf(id);
          const graph: GameGraph = game.graph;
          const leaves = site === 'reserve' ? graph.reserveLeaves : graph.nodes.get(site)?.leaves;
          const mover = site === 'reserve' ? 'operator' : graph.nodes.get(site)?.move.mover;
          if (mover !== 'operator' || leaves === undefined) return;
          const published: PublishedSignatures = {
            ...signed,
            kickoff: kickoffSignatures(fx, {
              root: ctx.claimedRoot,
              imageRoot: ctx.imageRoot,
              inputsRoot: ctx.inputsRoot,
            }),
          };
          for (const name of leaves.keys()) {
            if (name === 'timeout' || name.startsWith('move:') || name.startsWith('equivocation:')) continue;
            const extras: { block?: Uint8Array }[] =
              name === 'pc-link' || name === 'wrong-predecessor'
                ? blocksFor(epoch, epoch.honest.steps.length, next).map((block) => ({ block }))
                : [{}];
            for (const extra of extras) {
              let tx: ReturnType<typeof slashThrough>;
              try {
                tx = slashThrough(fx, game, site, name, published, extra);
              } catch (err) {
                if (!(err instanceof LeafWitnessError)) throw err;
                bump(tried, 'not buildable (a value it reads is not published)');
                continue;
              }
              expect(rejection(game.chain, tx), `${site}: ${name} spent against an honest operator`).toMatch(
                /script-verify-flag-failed/,
              );
              bump(tried, name.split(':')[0] as string);
            }
          }
        },
      });
      expect(r.outcome.winner, `game ${g}`).toBe('operator');
      bump(ends, `${r.outcome.end} ${r.outcome.at}`);
      // The griefer's own disprove, if it sent one, is refused too.
      if (r.replay.slash !== undefined) {
        expect(rejection(r.game.chain, r.replay.slash.tx)).toMatch(/script-verify-flag-failed/);
      }
      // A refusal the operator is owed confirms, and pays it.
      if (r.outcome.end === 'refused') {
        const site =
          r.outcome.at === 'not-a-tape-step'
            ? 'requestTape'
            : r.outcome.writeStep === undefined
              ? `choice${R}`
              : `read/choice′${R}`;
        const name =
          r.outcome.at === 'not-a-tape-step'
            ? 'not-a-tape-step'
            : r.outcome.writeStep === undefined
              ? 'past-end'
              : 'past-read';
        const pot = gameOutputOf(r.game.graph, site);
        const to = taprootOutput(r.fx.spec.operator).scriptPubKey;
        const sweep = sweepOutput(pot, pot.leaves.get(name) as number, to, 5_000n, 0xfffffffd);
        const sig = signSweep(sweep, r.fx.secrets.operator);
        confirm(
          r.game.chain,
          completeSweep(sweep, gameLeafItems(shape, name, { ...r.replay.signed, kickoff: r.kickoff }, sig)),
        );
      }
      // D was never spent: no slash got in, in the mempool or a block.
      const stake = r.game.graph.outpoints.stake;
      expect(r.game.chain.spenderOf(hashToDisplayHex(stake.txid), stake.vout), `game ${g}`).toBeUndefined();
      expect(r.game.chain.unspentCoin(hashToDisplayHex(stake.txid), stake.vout)?.value).toBe(
        r.fx.spec.values.stake,
      );
    }
    console.info(`griefing games on simnet: ${[...ends].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    console.info(`slashes tried and refused: ${[...tried].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    expect(tried.get('resign') ?? 0).toBeGreaterThan(0);
    expect(tried.get('tape-top') ?? 0, 'no game reached the tape path').toBeGreaterThan(0);
  }, 600_000);
});
