/**
 * The watcher wallet's output: a key-path P2TR of the wallet key's taproot output key. One definition
 * for the watcher that spends from it and for `vigil wallet`, which tells the operator what to fund.
 */
import { addressForScript } from '../codec/address.ts';
import type { BitcoinNetwork } from '../network.ts';
import type { WalletKey } from './keys.ts';

export function watcherWalletScript(key: WalletKey): Uint8Array {
  const script = new Uint8Array(34);
  script[0] = 0x51;
  script[1] = 0x20;
  script.set(key.taprootOutputKey, 2);
  return script;
}

export function watcherWalletAddress(key: WalletKey, network: BitcoinNetwork): string {
  const address = addressForScript(watcherWalletScript(key), network);
  if (address === undefined) throw new Error(`no ${network} address for a P2TR output`);
  return address;
}
