/**
 * Reading the user-facing inputs of the tx tools: transaction hex, prevouts JSON, flag lists, batch
 * lines. Every problem is a TxInputError (one clear line, the location in metaMessages).
 */

import { hexToBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { parseFlags, STANDARD_FLAGS } from '../script/flags.ts';
import { parseTx } from './serialize.ts';
import type { Prevout, Tx } from './types.ts';

export class TxInputError extends VigilError {
  override name = 'TxInputError';
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function readTxHex(hex: string, where = 'transaction'): Tx {
  const clean = hex.trim();
  if (clean === '') throw new TxInputError(`The ${where} is empty`);
  try {
    return parseTx(hexToBytes(clean, where));
  } catch (err) {
    throw new TxInputError(`Cannot read the ${where}`, { cause: err });
  }
}

/** Prevouts: a JSON array of { "amount": "<sats>", "scriptPubKey": "<hex>" }, one per input. */
export function readPrevouts(json: unknown, where = 'prevouts'): Prevout[] {
  if (!Array.isArray(json)) {
    throw new TxInputError(`The ${where} must be a JSON array of { "amount", "scriptPubKey" }`);
  }
  return json.map((entry: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new TxInputError(`${at} is not an object`);
    const { amount, scriptPubKey } = entry as { amount?: unknown; scriptPubKey?: unknown };
    let value: bigint;
    if (typeof amount === 'string' && /^-?[0-9]+$/.test(amount)) value = BigInt(amount);
    else if (typeof amount === 'number' && Number.isSafeInteger(amount)) value = BigInt(amount);
    else
      throw new TxInputError(`${at}.amount must be an integer number of satoshis as a string, e.g. "10000"`);
    if (value < INT64_MIN || value > INT64_MAX) throw new TxInputError(`${at}.amount is outside 64 bits`);
    if (typeof scriptPubKey !== 'string') throw new TxInputError(`${at}.scriptPubKey must be a hex string`);
    let script: Uint8Array;
    try {
      script = hexToBytes(scriptPubKey, `${at}.scriptPubKey`);
    } catch (err) {
      throw new TxInputError(`${at}.scriptPubKey is not valid hex`, { cause: err });
    }
    return { value, script };
  });
}

export function parsePrevoutsText(text: string, where = 'prevouts file'): Prevout[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TxInputError(`The ${where} is not valid JSON`, { cause: err });
  }
  return readPrevouts(json, where);
}

/** A flag list; undefined means the default (Core's standard flags, which include consensus). */
export function readFlags(list: string | undefined): number {
  if (list === undefined) return STANDARD_FLAGS;
  try {
    return parseFlags(list);
  } catch (err) {
    throw new TxInputError('Unknown verification flag', { cause: err });
  }
}

export type BatchCase = { tx: Tx; prevouts: Prevout[]; flags: number; input?: number };

/** One `--batch` line: { "tx": "<hex>", "prevouts": [...], "flags": "...", "input": n? }. */
export function readBatchLine(line: string, lineNo: number): BatchCase {
  const where = `batch line ${lineNo}`;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    throw new TxInputError(`${where} is not valid JSON`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TxInputError(`${where} must be a JSON object`);
  }
  const o = json as { tx?: unknown; prevouts?: unknown; flags?: unknown; input?: unknown };
  if (typeof o.tx !== 'string') throw new TxInputError(`${where}: "tx" must be a hex string`);
  if (o.flags !== undefined && typeof o.flags !== 'string') {
    throw new TxInputError(`${where}: "flags" must be a comma-separated string`);
  }
  if (o.input !== undefined && (typeof o.input !== 'number' || !Number.isInteger(o.input) || o.input < 0)) {
    throw new TxInputError(`${where}: "input" must be a non-negative integer`);
  }
  const tx = readTxHex(o.tx, `${where} transaction`);
  const prevouts = readPrevouts(o.prevouts, `${where} prevouts`);
  checkPrevoutCount(tx, prevouts, where);
  if (o.input !== undefined && o.input >= tx.inputs.length) {
    throw new TxInputError(`${where}: input ${o.input} does not exist (${tx.inputs.length} inputs)`);
  }
  return {
    tx,
    prevouts,
    flags: readFlags(o.flags as string | undefined),
    ...(o.input === undefined ? {} : { input: o.input as number }),
  };
}

export function checkPrevoutCount(tx: Tx, prevouts: readonly Prevout[], where = 'prevouts'): void {
  if (prevouts.length !== tx.inputs.length) {
    throw new TxInputError(
      `${where}: ${prevouts.length} prevouts for ${tx.inputs.length} inputs (give one per input, in order)`,
    );
  }
}
