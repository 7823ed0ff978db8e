/**
 * One claim graph with real keys, for tests and benches: the operator, a covenant of the operator and two
 * committee members, W challengers each with its own key and seed, every game's Winternitz keys derived by
 * the key plan, and the kick-off's five values under §15-style keys. Secrets come from labels, so every
 * run builds the same graph. The claim outpoint and the bond coins are the caller's (a chain funds them).
 */
import type { BitcoinNetwork } from '../../src/bitcoin/network.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import type { ClaimParameters } from '../../src/dispute/game/claim-document.ts';
import type { ClaimGraph, ClaimGraphSpec } from '../../src/dispute/game/claim-graph.ts';
import type { ClaimExpectations } from '../../src/dispute/game/claim-import.ts';
import type { KickoffSignatures } from '../../src/dispute/game/claim-spend.ts';
import type { Outpoint } from '../../src/dispute/game/game-graph.ts';
import { REGTEST_SEARCH, type SearchShape } from '../../src/dispute/game/grid.ts';
import type { GameClaim } from '../../src/dispute/game/key-plan.ts';
import {
  deriveSignerKeys,
  type GameKeyScope,
  type GameValueSigner,
  gameValueSigner,
  type SignerKeys,
} from '../../src/dispute/game/signer-keys.ts';
import { encodeEpoch } from '../../src/dispute/graph/spend.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../../src/dispute/winternitz/keys.ts';
import { wotsSign } from '../../src/dispute/winternitz/sign.ts';
import { wordBytes } from '../../src/machine/isa.ts';
import { governanceProgram } from '../../src/machine/programs/governance.ts';
import type { GameFixture } from './game-fixture.ts';
import { GAME_SEEDS } from './game-fixture.ts';
import { secretOf, xOnly } from './graph-fixture.ts';

export type ClaimFixtureOptions = {
  readonly shape?: SearchShape;
  readonly challengers?: number;
  readonly agreedImageRoot?: Uint8Array;
  readonly network?: BitcoinNetwork;
  readonly timelocks?: ClaimGraphSpec['timelocks'];
  readonly values?: ClaimGraphSpec['values'];
  readonly maxChallengers?: number;
  /** The claim's epoch (default 7). */
  readonly epoch?: bigint;
  /** The first challengers' own key secrets and Winternitz seeds (a watcher's identity), the rest from labels. */
  readonly identities?: readonly { readonly secret: Uint8Array; readonly seed: Uint8Array }[];
};

type KickoffSecrets = Record<keyof KickoffSignatures, WotsSecretKey>;

export type ClaimFixture = {
  /** The spec on placeholder outpoints: `fundedSpec` puts the real ones in. */
  readonly spec: ClaimGraphSpec;
  readonly secrets: {
    readonly operator: Uint8Array;
    readonly covenant: readonly Uint8Array[];
    readonly challengers: readonly Uint8Array[];
  };
  readonly kickoffSecrets: KickoffSecrets;
  /** Signs planned values of w's game, as the operator or as w. */
  readonly sign: {
    readonly operator: readonly GameValueSigner[];
    readonly challenger: readonly GameValueSigner[];
  };
  readonly scopes: readonly GameKeyScope[];
};

/** Keys by game, cached across fixtures: deriving them is most of a fixture's cost. */
const keyCache = new Map<string, { operator: SignerKeys; challenger: SignerKeys }>();

const challengerSeed = (w: number) => sha256(utf8(`vigil test claim challenger seed ${w}`));

export function makeClaimFixture(options: ClaimFixtureOptions = {}): ClaimFixture {
  const shape = options.shape ?? REGTEST_SEARCH;
  const network = options.network ?? 'regtest';
  const W = options.challengers ?? 2;
  const operatorSecret = secretOf('game operator');
  const covenantSecrets = [operatorSecret, secretOf('game committee 1'), secretOf('game committee 2')];
  const identities = options.identities ?? [];
  const challengerSecrets = Array.from(
    { length: W },
    (_, w) => identities[w]?.secret ?? secretOf(`claim challenger ${w}`),
  );
  const seedOf = (w: number) => identities[w]?.seed ?? challengerSeed(w);
  const operator = xOnly(operatorSecret);
  const claim: GameClaim = { network, operator, epoch: options.epoch ?? 7n, instance: 0 };
  const scopes = challengerSecrets.map((s) => ({ shape, claim, challenger: xOnly(s) }));
  const keys = scopes.map((scope, w) => {
    const id = `${network}:${shape.pointsPerRound}:${shape.depth}:${claim.epoch}:${bytesToHex(scope.challenger)}:${bytesToHex(seedOf(w))}`;
    let k = keyCache.get(id);
    if (k === undefined) {
      k = {
        operator: deriveSignerKeys(GAME_SEEDS.operator, scope, 'operator'),
        challenger: deriveSignerKeys(seedOf(w), scope, 'challenger'),
      };
      keyCache.set(id, k);
    }
    return k;
  });
  const kickoffKey = (valueIndex: number, messageBytes: number) =>
    deriveWotsSecretKey(GAME_SEEDS.operator, { ...claim, valueIndex, messageBytes });
  const kickoffSecrets: KickoffSecrets = {
    epoch: kickoffKey(0, 8),
    root: kickoffKey(1, 32),
    l2BlockHash: kickoffKey(2, 32),
    imageRoot: kickoffKey(3, 32),
    inputsRoot: kickoffKey(4, 32),
  };
  const values = options.values ?? { stake: 10_000_000n, reserve: 600_000n, bond: 1_100_000n };
  const placeholder = (label: string, vout = 0): Outpoint => ({ txid: sha256(utf8(label)), vout });
  const spec: ClaimGraphSpec = {
    network,
    operator,
    covenant: covenantSecrets.map(xOnly),
    epoch: claim.epoch,
    instance: claim.instance,
    claim: placeholder('claim'),
    shape,
    program: governanceProgram(),
    agreedImageRoot: options.agreedImageRoot ?? sha256(utf8('agreed image root')),
    kickoff: {
      epoch: wotsPublicKey(kickoffSecrets.epoch),
      root: wotsPublicKey(kickoffSecrets.root),
      l2BlockHash: wotsPublicKey(kickoffSecrets.l2BlockHash),
      imageRoot: wotsPublicKey(kickoffSecrets.imageRoot),
      inputsRoot: wotsPublicKey(kickoffSecrets.inputsRoot),
    },
    timelocks: options.timelocks ?? { challenge: 6, assertWindow: 12, move: 3, payout: 60, bondRefund: 20 },
    feeRate: 1n,
    slashFeeRates: [1n, 8n, 64n],
    timeoutFeeRates: [1n, 64n, 1_024n],
    burnBps: 5_000,
    assertTimeoutBurnBps: 9_500,
    values,
    maxChallengers: options.maxChallengers ?? Math.max(10, W),
    challengers: scopes.map((scope, w) => ({
      key: scope.challenger,
      keys: (keys[w] as (typeof keys)[number]).challenger,
      operatorKeys: (keys[w] as (typeof keys)[number]).operator,
      bondCoin: { ...placeholder('bond coin', w), value: bondCoinValue(values) },
    })),
  };
  return {
    spec,
    secrets: { operator: operatorSecret, covenant: covenantSecrets, challengers: challengerSecrets },
    kickoffSecrets,
    sign: {
      operator: scopes.map((scope) => gameValueSigner(GAME_SEEDS.operator, scope, 'operator')),
      challenger: scopes.map((scope, w) => gameValueSigner(seedOf(w), scope, 'challenger')),
    },
    scopes,
  };
}

/** What each test challenger's bond coin holds: the bond, its challenge's fee and some change. */
export const bondCoinValue = (values: ClaimGraphSpec['values']): bigint => values.bond + 100_000n;

/** The spec on the outpoints a chain funded: the claim output and each challenger's bond coin. */
export function fundedSpec(
  fx: ClaimFixture,
  claim: Outpoint,
  bondCoins: readonly Outpoint[],
): ClaimGraphSpec {
  return {
    ...fx.spec,
    claim,
    challengers: fx.spec.challengers.map((c, w) => ({
      ...c,
      bondCoin: { ...(bondCoins[w] as Outpoint), value: c.bondCoin.value },
    })),
  };
}

/** The kick-off's signatures of its five values. */
export function kickoffSignaturesOf(
  fx: ClaimFixture,
  values: { root: bigint; l2BlockHash: Uint8Array; imageRoot: Uint8Array; inputsRoot: Uint8Array },
): KickoffSignatures {
  const s = fx.kickoffSecrets;
  return {
    epoch: wotsSign(s.epoch, encodeEpoch(fx.spec.epoch)),
    root: wotsSign(s.root, wordBytes(values.root)),
    l2BlockHash: wotsSign(s.l2BlockHash, values.l2BlockHash),
    imageRoot: wotsSign(s.imageRoot, values.imageRoot),
    inputsRoot: wotsSign(s.inputsRoot, values.inputsRoot),
  };
}

/** w's game as a GameFixture, so the game tests' helpers play it. */
export function gameFixtureOf(fx: ClaimFixture, graph: ClaimGraph, w: number): GameFixture {
  const game = graph.games[w];
  if (game === undefined) throw new Error(`the claim has no game ${w}`);
  return {
    spec: game.spec,
    scope: fx.scopes[w] as GameKeyScope,
    secrets: {
      operator: fx.secrets.operator,
      challenger: fx.secrets.challengers[w] as Uint8Array,
      covenant: fx.secrets.covenant,
    },
    sign: {
      operator: fx.sign.operator[w] as GameValueSigner,
      challenger: fx.sign.challenger[w] as GameValueSigner,
    },
    kickoffSecrets: {
      root: fx.kickoffSecrets.root,
      imageRoot: fx.kickoffSecrets.imageRoot,
      inputsRoot: fx.kickoffSecrets.inputsRoot,
    },
  };
}

/** The parameters a watcher holds for the fixture's network: the spec's own. */
export function claimParametersOf(spec: ClaimGraphSpec): ClaimParameters {
  return {
    shape: spec.shape,
    program: spec.program,
    timelocks: spec.timelocks,
    feeRate: spec.feeRate,
    ...(spec.challengeFeeRate === undefined ? {} : { challengeFeeRate: spec.challengeFeeRate }),
    ...(spec.slashFeeRates === undefined ? {} : { slashFeeRates: spec.slashFeeRates }),
    ...(spec.timeoutFeeRates === undefined ? {} : { timeoutFeeRates: spec.timeoutFeeRates }),
    burnBps: spec.burnBps,
    assertTimeoutBurnBps: spec.assertTimeoutBurnBps,
    values: spec.values,
    maxChallengers: spec.maxChallengers,
  };
}

/**
 * What a watcher knows of the claim independently of its document: the L2's registry, bundles and roots,
 * and the claim output (`claim`, as the chain holds it).
 */
export function claimExpectationsOf(
  spec: ClaimGraphSpec,
  claim: { readonly value: bigint; readonly script: Uint8Array },
): ClaimExpectations {
  return {
    network: spec.network,
    params: claimParametersOf(spec),
    operator: spec.operator,
    committee: spec.covenant.slice(1),
    epoch: spec.epoch,
    agreedImageRoot: spec.agreedImageRoot,
    challengers: spec.challengers.map((c) => ({ key: c.key, bondCoin: c.bondCoin, keys: c.keys })),
    claimPrevout: claim,
  };
}
