/**
 * Relay policy (standardness), kept apart from consensus: a transaction can be valid and still be
 * refused by every default node. Mirrors Bitcoin Core 26's policy/policy.cpp (IsStandardTx,
 * AreInputsStandard, IsWitnessStandard, dust) and the PreChecks size and sigop limits, with Core's
 * reject reasons. Script-flag policy (STANDARD_FLAGS vs consensus) is applied by `checkStandard`.
 */

import { Op } from '../script/opcodes.ts';
import { decodeScript, isPayToScriptHash, isPushOnly, witnessProgram } from '../script/script.ts';
import { isCoinbase } from './check.ts';
import { isPubkeyWellSized } from './ecdsa.ts';
import { serializeTx, txWeight, WITNESS_SCALE_FACTOR } from './serialize.ts';
import type { Prevout, Tx, TxOutput } from './types.ts';

export const MAX_STANDARD_TX_WEIGHT = 400_000;
export const MIN_STANDARD_TX_NONWITNESS_SIZE = 65;
export const MAX_STANDARD_SCRIPTSIG_SIZE = 1650;
export const MAX_STANDARD_P2WSH_SCRIPT_SIZE = 3600;
export const MAX_STANDARD_P2WSH_STACK_ITEMS = 100;
export const MAX_STANDARD_P2WSH_STACK_ITEM_SIZE = 80;
export const MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE = 80;
export const MAX_P2SH_SIGOPS = 15;
export const MAX_STANDARD_TX_SIGOPS_COST = 16_000;
export const MAX_OP_RETURN_RELAY = 83;
/** Core's DUST_RELAY_TX_FEE, sat per 1000 vbytes. */
export const DUST_RELAY_TX_FEE = 3000n;
export const TX_MAX_STANDARD_VERSION = 2;

export type PolicyReason =
  | 'version'
  | 'tx-size'
  | 'tx-size-small'
  | 'scriptsig-size'
  | 'scriptsig-not-pushonly'
  | 'scriptpubkey'
  | 'bare-multisig'
  | 'dust'
  | 'multi-op-return'
  | 'bad-txns-nonstandard-inputs'
  | 'bad-witness-nonstandard'
  | 'bad-txns-too-many-sigops';

export type PolicyResult =
  | { ok: true }
  | { ok: false; reason: PolicyReason; input?: number; output?: number };

export type PolicyOptions = {
  /** -datacarriersize (default 83); undefined data carriers are allowed, `null` refuses them. */
  maxDatacarrierBytes?: number | null;
  /** -permitbaremultisig (default true in Core 26). */
  permitBareMultisig?: boolean;
  /** -dustrelayfee in sat/kvB (default 3000). */
  dustRelayFee?: bigint;
  /** Highest standard version (2 in Core 26, 3 from Core 28 with TRUC). */
  maxVersion?: number;
};

export type TxoutType =
  | 'nonstandard'
  | 'pubkey'
  | 'pubkeyhash'
  | 'scripthash'
  | 'multisig'
  | 'nulldata'
  | 'witness_v0_keyhash'
  | 'witness_v0_scripthash'
  | 'witness_v1_taproot'
  | 'witness_unknown';

/** Core's Solver, reduced to the output type (and multisig m-of-n). */
export function solveOutput(script: Uint8Array): { type: TxoutType; m?: number; n?: number } {
  const wp = witnessProgram(script);
  if (wp !== undefined) {
    if (wp.version === 0 && wp.program.length === 20) return { type: 'witness_v0_keyhash' };
    if (wp.version === 0 && wp.program.length === 32) return { type: 'witness_v0_scripthash' };
    if (wp.version === 1 && wp.program.length === 32) return { type: 'witness_v1_taproot' };
    if (wp.version !== 0) return { type: 'witness_unknown' };
    return { type: 'nonstandard' };
  }
  if (isPayToScriptHash(script)) return { type: 'scripthash' };
  // Provably unspendable data carrier: OP_RETURN followed only by pushes.
  if (script.length >= 1 && script[0] === Op.OP_RETURN && isPushOnly(script.subarray(1))) {
    return { type: 'nulldata' };
  }
  if ((script.length === 35 && script[0] === 33) || (script.length === 67 && script[0] === 65)) {
    const key = script.subarray(1, script.length - 1);
    if (script[script.length - 1] === Op.OP_CHECKSIG && isPubkeyWellSized(key)) return { type: 'pubkey' };
  }
  if (
    script.length === 25 &&
    script[0] === Op.OP_DUP &&
    script[1] === Op.OP_HASH160 &&
    script[2] === 20 &&
    script[23] === Op.OP_EQUALVERIFY &&
    script[24] === Op.OP_CHECKSIG
  ) {
    return { type: 'pubkeyhash' };
  }
  const ms = matchMultisig(script);
  if (ms !== undefined) return { type: 'multisig', ...ms };
  return { type: 'nonstandard' };
}

function smallInt(opcode: number): number | undefined {
  return opcode >= Op.OP_1 && opcode <= Op.OP_16 ? opcode - (Op.OP_1 - 1) : undefined;
}

function matchMultisig(script: Uint8Array): { m: number; n: number } | undefined {
  if (script.length < 1 || script[script.length - 1] !== Op.OP_CHECKMULTISIG) return undefined;
  const { ops, truncated } = decodeScript(script);
  if (truncated || ops.length < 1) return undefined;
  const m = smallInt(ops[0]!.opcode);
  if (m === undefined) return undefined;
  let i = 1;
  let keys = 0;
  while (i < ops.length) {
    const data = ops[i]!.data;
    if (data === undefined || !isPubkeyWellSized(data)) break;
    keys++;
    i++;
  }
  if (i >= ops.length) return undefined;
  const n = smallInt(ops[i]!.opcode);
  if (n === undefined || keys !== n || n < m) return undefined;
  // Exactly OP_CHECKMULTISIG must follow.
  if (i + 2 !== ops.length) return undefined;
  return { m, n };
}

/** Core's GetDustThreshold: the value below which spending the output costs more than it is worth. */
export function dustThreshold(output: TxOutput, dustRelayFee: bigint = DUST_RELAY_TX_FEE): bigint {
  const s = output.script;
  if ((s.length > 0 && s[0] === Op.OP_RETURN) || s.length > 10_000) return 0n;
  const lenPrefix = s.length < 0xfd ? 1 : s.length <= 0xffff ? 3 : 5;
  let size = 8 + lenPrefix + s.length;
  // The input that would spend it: outpoint, scriptSig length, sequence, and a typical signature.
  size +=
    witnessProgram(s) !== undefined
      ? 32 + 4 + 1 + Math.floor(107 / WITNESS_SCALE_FACTOR) + 4
      : 32 + 4 + 1 + 107 + 4;
  const fee = (dustRelayFee * BigInt(size) + 999n) / 1000n;
  return fee === 0n && dustRelayFee > 0n ? 1n : fee;
}

export function isDust(output: TxOutput, dustRelayFee?: bigint): boolean {
  return output.value < dustThreshold(output, dustRelayFee);
}

/** Core's IsStandardTx (plus the PreChecks "tx-size-small"); needs no prevouts. */
export function isStandardTx(tx: Tx, options: PolicyOptions = {}): PolicyResult {
  const maxVersion = options.maxVersion ?? TX_MAX_STANDARD_VERSION;
  if (tx.version > maxVersion || tx.version < 1) return { ok: false, reason: 'version' };
  if (txWeight(tx) > MAX_STANDARD_TX_WEIGHT) return { ok: false, reason: 'tx-size' };
  for (const [i, input] of tx.inputs.entries()) {
    if (input.scriptSig.length > MAX_STANDARD_SCRIPTSIG_SIZE)
      return { ok: false, reason: 'scriptsig-size', input: i };
    if (!isPushOnly(input.scriptSig)) return { ok: false, reason: 'scriptsig-not-pushonly', input: i };
  }
  const maxData =
    options.maxDatacarrierBytes === undefined ? MAX_OP_RETURN_RELAY : options.maxDatacarrierBytes;
  let dataOutputs = 0;
  for (const [o, output] of tx.outputs.entries()) {
    const solved = solveOutput(output.script);
    if (solved.type === 'nonstandard') return { ok: false, reason: 'scriptpubkey', output: o };
    if (solved.type === 'multisig') {
      const { m = 0, n = 0 } = solved;
      if (n < 1 || n > 3 || m < 1 || m > n) return { ok: false, reason: 'scriptpubkey', output: o };
    }
    if (solved.type === 'nulldata') {
      if (maxData === null || output.script.length > maxData)
        return { ok: false, reason: 'scriptpubkey', output: o };
      dataOutputs++;
    } else if (solved.type === 'multisig' && options.permitBareMultisig === false) {
      return { ok: false, reason: 'bare-multisig', output: o };
    } else if (isDust(output, options.dustRelayFee)) {
      return { ok: false, reason: 'dust', output: o };
    }
  }
  if (dataOutputs > 1) return { ok: false, reason: 'multi-op-return' };
  if (serializeTx(tx, { witness: false }).length < MIN_STANDARD_TX_NONWITNESS_SIZE) {
    return { ok: false, reason: 'tx-size-small' };
  }
  return { ok: true };
}

/**
 * The stack a push-only scriptSig leaves (EvalScript with no flags), or undefined where Core's
 * EvalScript fails (an oversized push, OP_RESERVED, a truncated push, a non-push opcode).
 */
export function pushOnlyStack(scriptSig: Uint8Array): Uint8Array[] | undefined {
  if (scriptSig.length > 10_000) return undefined;
  const { ops, truncated } = decodeScript(scriptSig);
  if (truncated) return undefined;
  const stack: Uint8Array[] = [];
  for (const { opcode, data } of ops) {
    if (data !== undefined) {
      if (data.length > 520) return undefined;
      stack.push(data);
    } else if (opcode === Op.OP_0) stack.push(new Uint8Array());
    else if (opcode === Op.OP_1NEGATE) stack.push(Uint8Array.of(0x81));
    else if (opcode >= Op.OP_1 && opcode <= Op.OP_16) stack.push(Uint8Array.of(opcode - (Op.OP_1 - 1)));
    else return undefined;
  }
  return stack;
}

/** Core's CScript::GetSigOpCount. */
export function scriptSigOpCount(script: Uint8Array, accurate: boolean): number {
  let n = 0;
  let last = -1;
  for (const { opcode } of decodeScript(script).ops) {
    if (opcode === Op.OP_CHECKSIG || opcode === Op.OP_CHECKSIGVERIFY) n++;
    else if (opcode === Op.OP_CHECKMULTISIG || opcode === Op.OP_CHECKMULTISIGVERIFY) {
      const k = smallInt(last);
      n += accurate && k !== undefined ? k : 20;
    }
    last = opcode;
  }
  return n;
}

/** The last push of a push-only scriptSig (Core's P2SH sigop and witness lookups), else undefined. */
function lastPush(scriptSig: Uint8Array): Uint8Array | undefined {
  const { ops, truncated } = decodeScript(scriptSig);
  if (truncated) return undefined;
  let last: Uint8Array = new Uint8Array();
  for (const { opcode, data } of ops) {
    if (opcode > Op.OP_16) return undefined;
    last = data ?? new Uint8Array();
  }
  return last;
}

function witnessSigOps(spk: Uint8Array, witness: Uint8Array[]): number {
  const wp = witnessProgram(spk);
  if (wp === undefined || wp.version !== 0) return 0;
  if (wp.program.length === 20) return 1;
  if (wp.program.length === 32 && witness.length > 0)
    return scriptSigOpCount(witness[witness.length - 1]!, true);
  return 0;
}

/** Core's GetTransactionSigOpCost with P2SH and WITNESS flags (as mempool acceptance uses). */
export function txSigOpCost(tx: Tx, prevouts: readonly Prevout[]): number {
  let legacy = 0;
  for (const i of tx.inputs) legacy += scriptSigOpCount(i.scriptSig, false);
  for (const o of tx.outputs) legacy += scriptSigOpCount(o.script, false);
  let cost = legacy * WITNESS_SCALE_FACTOR;
  if (isCoinbase(tx)) return cost;
  for (const [i, input] of tx.inputs.entries()) {
    const spk = prevouts[i]!.script;
    if (isPayToScriptHash(spk)) {
      const redeem = lastPush(input.scriptSig);
      if (redeem !== undefined) cost += scriptSigOpCount(redeem, true) * WITNESS_SCALE_FACTOR;
    }
    let witnessSpk = spk;
    if (isPayToScriptHash(spk)) {
      const redeem = lastPush(input.scriptSig);
      witnessSpk = redeem ?? new Uint8Array();
    }
    cost += witnessSigOps(witnessSpk, input.witness);
  }
  return cost;
}

/** Core's AreInputsStandard. */
export function areInputsStandard(tx: Tx, prevouts: readonly Prevout[]): PolicyResult {
  if (isCoinbase(tx)) return { ok: true };
  for (const [i, input] of tx.inputs.entries()) {
    const spk = prevouts[i]!.script;
    const type = solveOutput(spk).type;
    if (type === 'nonstandard' || type === 'witness_unknown') {
      return { ok: false, reason: 'bad-txns-nonstandard-inputs', input: i };
    }
    if (type === 'scripthash') {
      const stack = pushOnlyStack(input.scriptSig);
      if (stack === undefined || stack.length === 0) {
        return { ok: false, reason: 'bad-txns-nonstandard-inputs', input: i };
      }
      if (scriptSigOpCount(stack[stack.length - 1]!, true) > MAX_P2SH_SIGOPS) {
        return { ok: false, reason: 'bad-txns-nonstandard-inputs', input: i };
      }
    }
  }
  return { ok: true };
}

/** Core's IsWitnessStandard: P2WSH limits, 80-byte tapscript stack items, no annex. */
export function isWitnessStandard(tx: Tx, prevouts: readonly Prevout[]): PolicyResult {
  if (isCoinbase(tx)) return { ok: true };
  const bad = (i: number): PolicyResult => ({ ok: false, reason: 'bad-witness-nonstandard', input: i });
  for (const [i, input] of tx.inputs.entries()) {
    if (input.witness.length === 0) continue;
    let spk = prevouts[i]!.script;
    let p2sh = false;
    if (isPayToScriptHash(spk)) {
      const stack = pushOnlyStack(input.scriptSig);
      if (stack === undefined || stack.length === 0) return bad(i);
      spk = stack[stack.length - 1]!;
      p2sh = true;
    }
    const wp = witnessProgram(spk);
    // A non-witness program must not carry a witness.
    if (wp === undefined) return bad(i);
    const w = input.witness;
    if (wp.version === 0 && wp.program.length === 32) {
      if (w[w.length - 1]!.length > MAX_STANDARD_P2WSH_SCRIPT_SIZE) return bad(i);
      if (w.length - 1 > MAX_STANDARD_P2WSH_STACK_ITEMS) return bad(i);
      for (let j = 0; j < w.length - 1; j++)
        if (w[j]!.length > MAX_STANDARD_P2WSH_STACK_ITEM_SIZE) return bad(i);
    }
    if (wp.version === 1 && wp.program.length === 32 && !p2sh) {
      let stack = w;
      const top = stack[stack.length - 1]!;
      // Annexes stay nonstandard until they have meaning.
      if (stack.length >= 2 && top.length > 0 && top[0] === 0x50) return bad(i);
      if (stack.length >= 2) {
        const control = stack[stack.length - 1]!;
        stack = stack.slice(0, -2);
        if (control.length === 0) return bad(i);
        if (((control[0] as number) & 0xfe) === 0xc0) {
          for (const item of stack) if (item.length > MAX_STANDARD_TAPSCRIPT_STACK_ITEM_SIZE) return bad(i);
        }
      } else if (stack.length !== 1) {
        return bad(i);
      }
    }
  }
  return { ok: true };
}

/**
 * Every policy check that needs no script execution, in the order Core's mempool applies them:
 * IsStandardTx, tx-size-small, AreInputsStandard, IsWitnessStandard, the sigop limit.
 * Script-flag policy is `verifyStandardScripts`'s job (it needs the interpreter).
 */
export function checkPolicy(tx: Tx, prevouts: readonly Prevout[], options: PolicyOptions = {}): PolicyResult {
  const standard = isStandardTx(tx, options);
  if (!standard.ok) return standard;
  const inputs = areInputsStandard(tx, prevouts);
  if (!inputs.ok) return inputs;
  const witness = isWitnessStandard(tx, prevouts);
  if (!witness.ok) return witness;
  if (txSigOpCost(tx, prevouts) > MAX_STANDARD_TX_SIGOPS_COST)
    return { ok: false, reason: 'bad-txns-too-many-sigops' };
  return { ok: true };
}
