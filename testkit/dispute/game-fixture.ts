/**
 * One game's graph with real keys, for tests and benches: a covenant of the operator and two committee
 * members, w's key, both sides' Winternitz keys derived from their seeds by the key plan, and the
 * kick-off's three values under §15-style keys. Secrets are derived from labels, so every run builds the
 * same graph.
 */
import type { BitcoinNetwork } from '../../src/bitcoin/network.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import {
  buildGameGraph,
  type GameGraph,
  type GameGraphSpec,
  type GameOutpoints,
} from '../../src/dispute/game/game-graph.ts';
import { REGTEST_SEARCH, type SearchShape } from '../../src/dispute/game/grid.ts';
import type { GameClaim } from '../../src/dispute/game/key-plan.ts';
import type { KickoffKeys } from '../../src/dispute/game/output-leaves.ts';
import {
  deriveSignerKeys,
  type GameKeyScope,
  type GameValueSigner,
  gameValueSigner,
} from '../../src/dispute/game/signer-keys.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import type { Program } from '../../src/machine/program.ts';
import { governanceProgram } from '../../src/machine/programs/governance.ts';
import { secretOf, xOnly } from './graph-fixture.ts';

export const GAME_SEEDS = {
  operator: sha256(utf8('vigil test game seed operator')),
  challenger: sha256(utf8('vigil test game seed challenger')),
};

export type GameFixture = {
  readonly spec: GameGraphSpec;
  readonly scope: GameKeyScope;
  readonly secrets: {
    readonly operator: Uint8Array;
    readonly challenger: Uint8Array;
    readonly covenant: readonly Uint8Array[];
  };
  /** Signs a planned value as the operator or as w. */
  readonly sign: { readonly operator: GameValueSigner; readonly challenger: GameValueSigner };
  readonly kickoffSecrets: {
    readonly root: WotsSecretKey;
    readonly imageRoot: WotsSecretKey;
    readonly inputsRoot: WotsSecretKey;
  };
};

export type GameFixtureOptions = {
  readonly shape?: SearchShape;
  readonly program?: Program;
  readonly agreedImageRoot?: Uint8Array;
  readonly network?: BitcoinNetwork;
  readonly values?: GameGraphSpec['values'];
  readonly feeRate?: bigint;
  readonly timelocks?: GameGraphSpec['timelocks'];
};

/** Signer keys by shape and network: deriving them is most of a fixture's cost, and they never change. */
const keyCache = new Map<string, GameGraphSpec['keys']>();

export function makeGameFixture(options: GameFixtureOptions = {}): GameFixture {
  const shape = options.shape ?? REGTEST_SEARCH;
  const network = options.network ?? 'regtest';
  const secrets = {
    operator: secretOf('game operator'),
    challenger: secretOf('game challenger'),
    covenant: [secretOf('game operator'), secretOf('game committee 1'), secretOf('game committee 2')],
  };
  const operator = xOnly(secrets.operator);
  const challenger = xOnly(secrets.challenger);
  const claim: GameClaim = { network, operator, epoch: 7n, instance: 0 };
  const scope: GameKeyScope = { shape, claim, challenger };
  const kickoffKey = (valueIndex: number) =>
    deriveWotsSecretKey(GAME_SEEDS.operator, { ...claim, valueIndex, messageBytes: 32 });
  const kickoffSecrets = { root: kickoffKey(1), imageRoot: kickoffKey(3), inputsRoot: kickoffKey(4) };
  const kickoff: KickoffKeys = {
    root: wotsPublicKey(kickoffSecrets.root),
    imageRoot: wotsPublicKey(kickoffSecrets.imageRoot),
    inputsRoot: wotsPublicKey(kickoffSecrets.inputsRoot),
  };
  const spec: GameGraphSpec = {
    shape,
    program: options.program ?? governanceProgram(),
    agreedImageRoot: options.agreedImageRoot ?? sha256(utf8('agreed image root')),
    operator,
    challenger,
    keys: cachedKeys(scope),
    kickoff,
    covenant: secrets.covenant.map(xOnly),
    timelocks: options.timelocks ?? { move: 3, payout: 60, assertWindow: 12, bondRefund: 20 },
    feeRate: options.feeRate ?? 1n,
    slashFeeRates: [1n, 8n, 64n],
    timeoutFeeRates: [1n, 64n, 1_024n],
    burnBps: 5_000,
    values: options.values ?? { stake: 10_000_000n, reserve: 600_000n, bond: 1_100_000n },
  };
  return {
    spec,
    scope,
    secrets,
    sign: {
      operator: gameValueSigner(GAME_SEEDS.operator, scope, 'operator'),
      challenger: gameValueSigner(GAME_SEEDS.challenger, scope, 'challenger'),
    },
    kickoffSecrets,
  };
}

/** Outpoints that stand in for the assert's D and Q_w and w's challenge output. */
export function placeholderOutpoints(): GameOutpoints {
  const id = (label: string) => sha256(utf8(label));
  return {
    stake: { txid: id('assert'), vout: 0 },
    reserve: { txid: id('assert'), vout: 1 },
    bond: { txid: id('challenge'), vout: 0 },
  };
}

export const buildFixtureGame = (fx: GameFixture, outpoints = placeholderOutpoints()): GameGraph =>
  buildGameGraph(fx.spec, outpoints);

function cachedKeys(scope: GameKeyScope): GameGraphSpec['keys'] {
  const id = `${scope.claim.network}:${scope.shape.pointsPerRound}:${scope.shape.depth}`;
  let keys = keyCache.get(id);
  if (keys === undefined) {
    keys = {
      operator: deriveSignerKeys(GAME_SEEDS.operator, scope, 'operator'),
      challenger: deriveSignerKeys(GAME_SEEDS.challenger, scope, 'challenger'),
    };
    keyCache.set(id, keys);
  }
  return keys;
}
