/** Address ↔ scriptPubKey at the edge (bitcoinjs-lib, with tiny-secp256k1 for taproot). */
import { address, initEccLib, type Network, networks } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { VigilError } from '../../core/errors.ts';
import type { BitcoinNetwork } from '../network.ts';

initEccLib(ecc);

export function libNetwork(network: BitcoinNetwork): Network {
  switch (network) {
    case 'mainnet':
      return networks.bitcoin;
    case 'regtest':
      return networks.regtest;
    default:
      return networks.testnet;
  }
}

export class InvalidAddressError extends VigilError {
  override name = 'InvalidAddressError';
}

export function scriptForAddress(addr: string, network: BitcoinNetwork): Uint8Array {
  try {
    return Uint8Array.from(address.toOutputScript(addr, libNetwork(network)));
  } catch (err) {
    throw new InvalidAddressError(`Invalid ${network} address: ${addr}`, { cause: err });
  }
}

/** The address of a standard output script, or undefined for scripts without one. */
export function addressForScript(script: Uint8Array, network: BitcoinNetwork): string | undefined {
  try {
    return address.fromOutputScript(script, libNetwork(network));
  } catch {
    return undefined;
  }
}
