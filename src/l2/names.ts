/** Parameter keys and module ids ↔ the contracts' bytes32 (ASCII, right-padded with zero bytes). */
import type { Hex } from 'viem';
import { VigilError } from '../core/errors.ts';

export function nameToBytes32(name: string): Hex {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) throw new VigilError(`"${name}" is not a valid key or module id`);
  return `0x${Buffer.from(name, 'ascii').toString('hex').padEnd(64, '0')}`;
}

/** Undoes nameToBytes32; throws on bytes that no valid name produces. */
export function bytes32ToName(value: Hex): string {
  const hex = value.slice(2).replace(/(00)+$/, '');
  const name = Buffer.from(hex, 'hex').toString('latin1');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name) || value.length !== 66) {
    throw new VigilError(`bytes32 ${value} is not a valid key or module id`);
  }
  return name;
}
