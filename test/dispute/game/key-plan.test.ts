/**
 * The key plan of a game (src/dispute/game/key-plan.ts, docs/protocol.md §24.3 "Keys"): every value and
 * echo of every move has a key, no signer's two keys share a domain, and the keys derived from the
 * operator's and the challenger's seeds never repeat a chain hash within a game (what import checks),
 * at regtest's and mainnet's shapes. The assert's keys are the same in every game of a claim; every
 * other key names its challenger and differs from game to game; a key is bound to its claim.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { MAINNET_SEARCH, REGTEST_SEARCH, type SearchShape } from '../../../src/dispute/game/grid.ts';
import { type GameClaim, gameKeyDomain, gameKeyPlan } from '../../../src/dispute/game/key-plan.ts';
import { gameMoveShapes } from '../../../src/dispute/game/move-inputs.ts';
import { deriveGameWotsSecretKey, encodeWotsGameDomain } from '../../../src/dispute/winternitz/game-keys.ts';
import { type WotsPublicKey, wotsPublicKey } from '../../../src/dispute/winternitz/keys.ts';

const OPERATOR_SEED = new Uint8Array(32).fill(0x0a);
const CHALLENGER_SEED = new Uint8Array(32).fill(0x0c);
const CLAIM: GameClaim = {
  network: 'regtest',
  operator: new Uint8Array(32).fill(0x66),
  epoch: 14n,
  instance: 0,
};
const W1 = new Uint8Array(32).fill(0x71);
const W2 = new Uint8Array(32).fill(0x72);

/** Every planned key of the game against `w`, derived from its signer's seed, by signer and label. */
function gameKeys(shape: SearchShape, w: Uint8Array, claim = CLAIM): Map<string, WotsPublicKey> {
  return new Map(
    gameKeyPlan(shape).map((e) => [
      `${e.signer}:${e.label}`,
      wotsPublicKey(
        deriveGameWotsSecretKey(
          e.signer === 'operator' ? OPERATOR_SEED : CHALLENGER_SEED,
          gameKeyDomain(e, claim, w),
        ),
      ),
    ]),
  );
}

describe.each([
  ['regtest', REGTEST_SEARCH],
  ['mainnet', MAINNET_SEARCH],
] as const)('the key plan at %s’s shape', (_, shape) => {
  const plan = gameKeyPlan(shape);

  it('keys every value and echo of every move, each once per signer, with a domain of its own', () => {
    const planned = new Set(plan.map((e) => `${e.signer}:${e.label}:${e.bytes}`));
    for (const move of gameMoveShapes(shape)) {
      for (const v of move.values)
        expect(planned.has(`${move.mover}:${v.label}:${v.bytes}`), v.label).toBe(true);
      for (const e of move.echoes)
        expect(planned.has(`${move.mover}:echo.${e.label}:${e.bytes}`), e.label).toBe(true);
    }
    expect(planned.size).toBe(plan.length);
    for (const signer of ['operator', 'challenger'] as const) {
      const domains = plan
        .filter((e) => e.signer === signer)
        .map((e) => bytesToHex(encodeWotsGameDomain(gameKeyDomain(e, CLAIM, W1))));
      expect(new Set(domains).size, signer).toBe(domains.length);
    }
  });

  it('derives keys whose chain hashes never repeat within a game, both seeds together', () => {
    const keys = gameKeys(shape, W1);
    const hashes = [...keys.values()].flatMap((k) => k.hashes.map(bytesToHex));
    expect(new Set(hashes).size).toBe(hashes.length);
    console.info(
      `key plan at K = ${shape.depth}: ${keys.size} keys, ${hashes.length} chain hashes, none repeated`,
    );
  });

  it('shares the assert’s keys between the games of a claim; every other key is the game’s own, and the claim’s', () => {
    const one = gameKeys(shape, W1);
    const two = gameKeys(shape, W2);
    const later = gameKeys(shape, W1, { ...CLAIM, epoch: CLAIM.epoch + 1n });
    for (const e of plan) {
      const id = `${e.signer}:${e.label}`;
      const same = bytesToHex((one.get(id) as WotsPublicKey).hashes[0] as Uint8Array);
      const other = bytesToHex((two.get(id) as WotsPublicKey).hashes[0] as Uint8Array);
      expect(same === other, `${id} in two games`).toBe(e.search === 'assert');
      expect(
        bytesToHex((later.get(id) as WotsPublicKey).hashes[0] as Uint8Array),
        `${id} in the next epoch`,
      ).not.toBe(same);
    }
  });
});
