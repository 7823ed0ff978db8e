/**
 * What the parts of a devnet run share (src/devnet/run.ts composes them): the story's voice, the stack
 * of things to stop at the end, the run's network and graph parameters, and the watcher's wallet.
 */

import { WalletKey } from '../bitcoin/wallet/keys.ts';
import { concatBytes, utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hashes.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';

/** Tells one story line, as it happens. */
export type Say = (line: string) => void;

/** What the run started, stopped in reverse order at the end; a failing stop does not keep the others. */
export class StopStack {
  private readonly stops: (() => Promise<unknown>)[] = [];

  push(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }

  /** Stops everything; each failure goes to `onError` (default: ignored) and the next stop still runs. */
  async stopAll(onError: (err: unknown) => void = () => {}): Promise<void> {
    for (const s of this.stops.splice(0).reverse()) await s().catch(onError);
  }
}

export const DEVNET_NETWORK = 'regtest' as const;
export const DEVNET_PARAMS = defaultGraphParameters[DEVNET_NETWORK];

/** The devnet watcher's wallet key: fixed, regtest only. */
export const DEVNET_WATCHER_KEY = WalletKey.fromBytes(
  sha256(utf8('vigil devnet watcher wallet (regtest only)')),
);
/** The watcher wallet's output script (P2TR of its key), a fresh copy each call. */
export const watcherScript = (): Uint8Array =>
  concatBytes(Uint8Array.of(0x51, 0x20), DEVNET_WATCHER_KEY.taprootOutputKey);

/**
 * Several coins, not one: disputes opened in the same block each need a coin of their own, otherwise
 * the second challenge waits for the first one's change.
 */
export const WATCHER_COINS = 8;
/** The devnet watcher's fee cap: what the wallet-spend check allows per vbyte Vigil sent. */
export const WATCHER_MAX_FEE_RATE_SAT_VB = 50;
