/**
 * What every part of the devnet operator shares: its chain, its graph parameters and keys, its strategy's
 * hooks, its money and its claims. Its own module so that the parts (kick-off, reactions, the strategy's
 * API) depend on it and not on each other.
 */
import type { Logger } from 'pino';
import type { BitcoinBackend } from '../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import type { GraphParameters } from '../dispute/graph/parameters.ts';
import type { FeeMarket } from './fee-market.ts';
import type { ClaimBook } from './operator-claims.ts';
import type { OperatorFunding } from './operator-funding.ts';
import type { DevnetOperatorSecrets } from './operator-keys.ts';
import type { OperatorHooks } from './strategies/types.ts';

export type OperatorBehaviour = 'assert' | 'never-assert';

export type OperatorContext = {
  readonly bitcoin: DevnetBitcoin;
  readonly backend: BitcoinBackend;
  readonly params: GraphParameters;
  readonly secrets: DevnetOperatorSecrets;
  readonly graphDir: string;
  /** Replaced when a served devnet's operator changes strategy (`vigil devnet operator`). */
  behaviour: OperatorBehaviour;
  /** The strategy's hooks; an absent hook keeps the behaviour's default. */
  hooks: OperatorHooks;
  readonly market: FeeMarket;
  readonly logger: Logger | undefined;
  readonly funding: OperatorFunding;
  readonly claims: ClaimBook;
  /** The height the next broadcast can first be mined at (the tip the operator last scanned + 1). */
  next(): number;
};
