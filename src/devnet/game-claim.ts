/**
 * The devnet operator's claim of one epoch in the narrowing game (docs/protocol.md §24): the claim graph's
 * spec on Vigil's claim parameters for regtest, the challengers as the L2's registry lists their bundles,
 * the operator's Winternitz keys derived from its seed for this claim, and the signers of its kick-off
 * and of its moves in each challenger's game. Regtest only: the operator's keys come from public labels
 * (operator-keys.ts). Pure: no I/O.
 */

import type { ClaimChallenger, ClaimGraphSpec } from '../dispute/game/claim-graph.ts';
import type { ListedChallenger } from '../dispute/game/claim-import.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
import type { KickoffSignatures } from '../dispute/game/claim-spend.ts';
import type { Outpoint } from '../dispute/game/game-graph.ts';
import type { GameClaim } from '../dispute/game/key-plan.ts';
import {
  deriveSignerKeys,
  type GameKeyScope,
  type GameValueSigner,
  gameValueSigner,
} from '../dispute/game/signer-keys.ts';
import { encodeEpoch } from '../dispute/graph/spend.ts';
import { deriveWotsSecretKey, type WotsSecretKey, wotsPublicKey } from '../dispute/winternitz/keys.ts';
import { wotsSign } from '../dispute/winternitz/sign.ts';
import { wordBytes } from '../machine/isa.ts';
import { REGISTRY_CLAIM_INSTANCE } from '../watcher/claim-games.ts';
import { DEVNET_NETWORK } from './operator-graph.ts';
import type { DevnetOperatorSecrets } from './operator-keys.ts';

/** What the kick-off commits besides the epoch. */
export type KickoffValues = {
  readonly root: bigint;
  readonly l2BlockHash: Uint8Array;
  readonly imageRoot: Uint8Array;
  readonly inputsRoot: Uint8Array;
};

export type DevnetClaim = {
  readonly spec: ClaimGraphSpec;
  /** The kick-off's five values, signed under the claim's kick-off keys. */
  kickoff(values: KickoffValues): KickoffSignatures;
  /** The operator's signer in challenger w's game. */
  signerOf(w: number): GameValueSigner;
};

/**
 * The claim of `epoch` on the claim output `claim`, its games against the registry's `challengers` (their
 * posted keys and bond coins), from the agreed pre-state `agreedImageRoot`.
 */
export function devnetClaim(o: {
  readonly secrets: DevnetOperatorSecrets;
  readonly operator: Uint8Array;
  readonly committee: readonly Uint8Array[];
  readonly epoch: bigint;
  readonly claim: Outpoint;
  /** What the claim output holds (default: what the graph needs). */
  readonly claimValue?: bigint;
  readonly agreedImageRoot: Uint8Array;
  readonly challengers: readonly ListedChallenger[];
}): DevnetClaim {
  const params = claimParameters(DEVNET_NETWORK);
  const seed = o.secrets.wotsSeed;
  const claim: GameClaim = {
    network: DEVNET_NETWORK,
    operator: o.operator,
    epoch: o.epoch,
    instance: REGISTRY_CLAIM_INSTANCE,
  };
  const kickoffKey = (valueIndex: number, messageBytes: number): WotsSecretKey =>
    deriveWotsSecretKey(seed, { ...claim, valueIndex, messageBytes });
  const secrets = {
    epoch: kickoffKey(0, 8),
    root: kickoffKey(1, 32),
    l2BlockHash: kickoffKey(2, 32),
    imageRoot: kickoffKey(3, 32),
    inputsRoot: kickoffKey(4, 32),
  };
  const scopes: GameKeyScope[] = o.challengers.map((c) => ({
    shape: params.shape,
    claim,
    challenger: c.key,
  }));
  const challengers: ClaimChallenger[] = o.challengers.map((c, w) => ({
    key: c.key,
    keys: c.keys,
    operatorKeys: deriveSignerKeys(seed, scopes[w] as GameKeyScope, 'operator'),
    bondCoin: c.bondCoin,
  }));
  const spec: ClaimGraphSpec = {
    ...params,
    network: DEVNET_NETWORK,
    operator: o.operator,
    covenant: [o.operator, ...o.committee],
    epoch: o.epoch,
    instance: REGISTRY_CLAIM_INSTANCE,
    claim: o.claim,
    ...(o.claimValue === undefined ? {} : { claimValue: o.claimValue }),
    agreedImageRoot: o.agreedImageRoot,
    kickoff: {
      epoch: wotsPublicKey(secrets.epoch),
      root: wotsPublicKey(secrets.root),
      l2BlockHash: wotsPublicKey(secrets.l2BlockHash),
      imageRoot: wotsPublicKey(secrets.imageRoot),
      inputsRoot: wotsPublicKey(secrets.inputsRoot),
    },
    challengers,
  };
  return {
    spec,
    kickoff: (v) => ({
      epoch: wotsSign(secrets.epoch, encodeEpoch(o.epoch)),
      root: wotsSign(secrets.root, wordBytes(v.root)),
      l2BlockHash: wotsSign(secrets.l2BlockHash, v.l2BlockHash),
      imageRoot: wotsSign(secrets.imageRoot, v.imageRoot),
      inputsRoot: wotsSign(secrets.inputsRoot, v.inputsRoot),
    }),
    signerOf: (w) => {
      const scope = scopes[w];
      if (scope === undefined) throw new RangeError(`The claim has no challenger ${w}`);
      return gameValueSigner(seed, scope, 'operator');
    },
  };
}
