/**
 * Reading a game move from the chain (src/dispute/game/move-reader.ts): every simnet game test already
 * builds its echoes and disproves only from what the reader took from mined transactions
 * (chain-play.ts). Here: the values read back are the values played; a move a miner included with its
 * digits pushed non-minimally (valid by consensus, refused by relay policy) reads the same, and its
 * signatures re-encode to the standard witness; a transaction that is not the move, or a signature that
 * does not verify, is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { CONSENSUS_FLAGS, STANDARD_FLAGS } from '../../../src/bitcoin/script/flags.ts';
import { txidHex } from '../../../src/bitcoin/tx/serialize.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { verifyTransaction } from '../../../src/bitcoin/tx/verify.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { gameTx, gameTxPrevouts } from '../../../src/dispute/game/game-graph.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import { MoveReadError, readMoveWitness } from '../../../src/dispute/game/move-reader.ts';
import type { StepReveal } from '../../../src/dispute/game/moves.ts';
import { wotsParameters } from '../../../src/dispute/winternitz/parameters.ts';
import { encodeWotsWitness } from '../../../src/dispute/winternitz/sign.ts';
import { FAULT_CASES } from '../../governance/fault-cases.ts';
import { eventsThrough, playEpochOnChain, revealValues } from './chain-play.ts';
import { contextOf, honestEpoch, operatorOf } from './setup.ts';

const shape = REGTEST_SEARCH;
const { scenario } = (FAULT_CASES['vote-counted-twice'] as (typeof FAULT_CASES)[string])();
const epoch = honestEpoch(scenario.genesis, scenario.inputs);
const r = playEpochOnChain(
  epoch,
  shape,
  contextOf(epoch, epoch.honest.result ^ 1n),
  operatorOf(shape, epoch),
  {
    cut: (e) => eventsThrough(e, 'reveal', 1),
  },
);
const mined = (id: string): Tx => {
  const found = r.game.chain.findTx(txidHex(gameTx(r.game.graph, id).tx));
  if (found?.block === undefined) throw new Error(`${id} is not mined`);
  return found.tx;
};

/** The same transaction with every digit item pushed non-minimally: 0 as 0x00, d as d 0x00. */
function malleated(tx: Tx, id: string): Tx {
  return {
    ...tx,
    inputs: tx.inputs.map((inp, j) => {
      const items = inp.witness.map((item, k) => {
        // Digit items are the odd ones among the Winternitz items at the bottom of the witness.
        const digits = k % 2 === 1 && k < countWotsItems(id, j);
        if (!digits) return item;
        return item.length === 0 ? Uint8Array.of(0) : Uint8Array.of(...item, 0);
      });
      return { ...inp, witness: items };
    }),
  };
}

function countWotsItems(id: string, j: number): number {
  const input = r.game.graph.nodes.get(id)?.inputs[j];
  if (input === undefined) return 0;
  const items = (bytes: number) => 2 * wotsParameters(bytes).totalDigits;
  return (
    input.values.reduce((n, v) => n + items(v.key.messageBytes), 0) +
    input.echoes.reduce((n, e) => n + items(e.theirs.messageBytes) + items(e.ours.messageBytes), 0)
  );
}

describe('reading a game move from the chain', () => {
  it('gives back the values the mover signed: the reveal’s record, lasts, chain values and echoed choices', () => {
    const reveal = r.events.find((e) => e.kind === 'reveal');
    if (reveal?.kind !== 'reveal') throw new Error('no reveal');
    const choices = new Map(
      r.events.flatMap((e) => (e.kind === 'choice' ? [[e.round, e.choice] as [number, number]] : [])),
    );
    const read = readMoveWitness(r.game.graph, 'reveal', mined('reveal'));
    const expected = revealValues(reveal.reveal as StepReveal, choices);
    const own = read.filter((p) => p.signer === 'operator');
    expect(new Map(own.map((p) => [p.label, bytesToHex(p.value)]))).toEqual(
      new Map([...expected].map(([l, v]) => [l, bytesToHex(v)])),
    );
    // The echoes came with the challenger's own signatures of the choices.
    expect(read.filter((p) => p.signer === 'challenger').map((p) => p.label)).toEqual(
      [...choices.keys()].map((round) => `choice${round}`),
    );
  });

  it('a move mined with non-minimal digit pushes (consensus-valid, not standard) reads the same, and re-encodes minimally', () => {
    for (const id of ['choice1', 'answer2', 'reveal']) {
      const tx = mined(id);
      const odd = malleated(tx, id);
      const prevouts = gameTxPrevouts(gameTx(r.game.graph, id));
      expect(verifyTransaction(odd, prevouts, CONSENSUS_FLAGS).ok, id).toBe(true);
      expect(verifyTransaction(odd, prevouts, STANDARD_FLAGS).ok, id).toBe(false);
      const a = readMoveWitness(r.game.graph, id, tx);
      const b = readMoveWitness(r.game.graph, id, odd);
      expect(b.map((p) => [p.label, bytesToHex(p.value)])).toEqual(
        a.map((p) => [p.label, bytesToHex(p.value)]),
      );
      for (const [k, p] of b.entries()) {
        expect(encodeWotsWitness(p.signature).map(bytesToHex)).toEqual(
          encodeWotsWitness((a[k] as (typeof a)[number]).signature).map(bytesToHex),
        );
      }
    }
  });

  it('refuses another move’s transaction and a signature that does not verify, naming the value', () => {
    expect(() => readMoveWitness(r.game.graph, 'answer2', mined('answer3'))).toThrow(/another txid/);
    const tx = mined('answer2');
    const bad: Tx = {
      ...tx,
      inputs: tx.inputs.map((inp, j) =>
        j === 0
          ? {
              ...inp,
              witness: [Uint8Array.from(inp.witness[0] as Uint8Array, (b) => b ^ 1), ...inp.witness.slice(1)],
            }
          : inp,
      ),
    };
    expect(() => readMoveWitness(r.game.graph, 'answer2', bad)).toThrow(MoveReadError);
    expect(() => readMoveWitness(r.game.graph, 'answer2', bad)).toThrow(
      /answer2 input 0: the signature of answer2.point1 does not verify/,
    );
  });
});
