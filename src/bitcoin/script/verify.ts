/**
 * Script verification of one input: Bitcoin Core's VerifyScript, VerifyWitnessProgram and
 * ExecuteWitnessScript.
 *
 * `verifyScriptStages` is the whole procedure as a generator that yields each script execution before
 * running it (scriptSig, scriptPubKey, redeem script, witness script, tapscript), so a debugger can step
 * through it; `verifyScript` drives the same generator without pausing. There is one interpreter.
 */

import { equalBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { sha256 } from '../../core/hashes.ts';
import { compactSizeLength } from '../compact-size.ts';
import type { ScriptExecutionData, SignatureChecker, SigVersion } from './checker.ts';
import type { ScriptErrorName } from './errors.ts';
import { formatFlags, ScriptFlag } from './flags.ts';
import {
  type ExecutionLimits,
  MAX_SCRIPT_ELEMENT_SIZE,
  MAX_STACK_SIZE,
  ScriptExecution,
  VALIDATION_WEIGHT_OFFSET,
} from './interpreter.ts';
import { castToBool } from './num.ts';
import { isOpSuccess, Op } from './opcodes.ts';
import { encodePush, isPayToScriptHash, isPushOnly, parseScript, witnessProgram } from './script.ts';
import {
  ANNEX_TAG,
  isValidControlBlockSize,
  TAPROOT_LEAF_MASK,
  TAPROOT_LEAF_TAPSCRIPT,
  tapleafHash,
  verifyTaprootCommitment,
} from './taproot.ts';

/** Which script an execution runs. */
export type ScriptStage = 'scriptSig' | 'scriptPubKey' | 'redeemScript' | 'witnessScript' | 'tapscript';

/** Where a verification failed: a script stage, or a check outside any script. */
export type VerifyStage = ScriptStage | 'witnessProgram' | 'keyPath' | 'scriptSigPushOnly' | 'final';

export type VerifyScriptResult =
  | { ok: true }
  | {
      ok: false;
      error: ScriptErrorName;
      script: VerifyStage;
      /** Index of the failing instruction within that stage's script, when a script failed. */
      opcodeIndex?: number;
      /** Byte offset of the failing instruction within that stage's script. */
      byteOffset?: number;
    };

export type StageExecution = { stage: ScriptStage; execution: ScriptExecution };

export type VerifyScriptOptions = {
  /**
   * Off-chain limits (e.g. `{ maxStackSize: Infinity }` for BitVM circuit tests). Leave unset for
   * consensus verification: unset means Bitcoin's limits.
   */
  limits?: ExecutionLimits;
};

export class InvalidFlagCombinationError extends VigilError {
  override name = 'InvalidFlagCombinationError';
  constructor(flags: number, rule: string) {
    super(`Invalid script verification flags: ${rule}`, {
      metaMessages: [`Flags: ${formatFlags(flags)}`, 'Bitcoin Core asserts on this combination.'],
    });
  }
}

function assertFlags(flags: number): void {
  if (
    (flags & ScriptFlag.CLEANSTACK) !== 0 &&
    (flags & (ScriptFlag.P2SH | ScriptFlag.WITNESS)) !== (ScriptFlag.P2SH | ScriptFlag.WITNESS)
  ) {
    throw new InvalidFlagCombinationError(flags, 'CLEANSTACK requires P2SH and WITNESS');
  }
  if ((flags & ScriptFlag.WITNESS) !== 0 && (flags & ScriptFlag.P2SH) === 0) {
    throw new InvalidFlagCombinationError(flags, 'WITNESS requires P2SH');
  }
}

function failure(error: ScriptErrorName, stage: VerifyStage, exec?: ScriptExecution): VerifyScriptResult {
  if (exec === undefined) return { ok: false, error, script: stage };
  const index = exec.errorOpcodeIndex;
  const byteOffset = exec.script.offsetOf(Math.max(index, 0));
  return { ok: false, error, script: stage, opcodeIndex: index, byteOffset };
}

/** Size of the witness as serialized (Core's GetSerializeSize(witness.stack)). */
export function witnessSerializedSize(witness: readonly Uint8Array[]): number {
  let size = compactSizeLength(witness.length);
  for (const item of witness) size += compactSizeLength(item.length) + item.length;
  return size;
}

/** Core's VerifyScript as a generator of the script executions it performs. */
export function* verifyScriptStages(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: readonly Uint8Array[],
  flags: number,
  checker: SignatureChecker,
  options: VerifyScriptOptions = {},
): Generator<StageExecution, VerifyScriptResult, void> {
  assertFlags(flags);
  const limits = options.limits;
  let hadWitness = false;

  const sigParsed = parseScript(scriptSig);
  if ((flags & ScriptFlag.SIGPUSHONLY) !== 0 && !isPushOnly(sigParsed)) {
    return failure('SIG_PUSHONLY', 'scriptSigPushOnly');
  }

  const sigExec = new ScriptExecution({ script: sigParsed, flags, checker, sigVersion: 'base', limits });
  yield { stage: 'scriptSig', execution: sigExec };
  if (sigExec.run() !== 'OK') return failure(sigExec.error as ScriptErrorName, 'scriptSig', sigExec);
  const stackAfterSig = sigExec.stack;

  const spkExec = new ScriptExecution({
    script: scriptPubKey,
    stack: stackAfterSig,
    flags,
    checker,
    sigVersion: 'base',
    limits,
  });
  yield { stage: 'scriptPubKey', execution: spkExec };
  if (spkExec.run() !== 'OK') return failure(spkExec.error as ScriptErrorName, 'scriptPubKey', spkExec);
  let stack = spkExec.stack;
  if (stack.length === 0 || !castToBool(stack[stack.length - 1] as Uint8Array)) {
    return failure('EVAL_FALSE', 'scriptPubKey');
  }

  // Bare witness programs.
  if ((flags & ScriptFlag.WITNESS) !== 0) {
    const wp = witnessProgram(scriptPubKey);
    if (wp !== undefined) {
      hadWitness = true;
      // The scriptSig must be exactly empty, or malleability returns.
      if (scriptSig.length !== 0) return failure('WITNESS_MALLEATED', 'witnessProgram');
      const r = yield* verifyWitnessProgram(witness, wp.version, wp.program, flags, checker, false, limits);
      if (!r.ok) return r;
      // The stack is not clean for witness programs; skip the CLEANSTACK check below.
      stack = stack.slice(0, 1);
    }
  }

  if ((flags & ScriptFlag.P2SH) !== 0 && isPayToScriptHash(scriptPubKey)) {
    // scriptSig must be literals only.
    if (!isPushOnly(sigParsed)) return failure('SIG_PUSHONLY', 'scriptSigPushOnly');
    // Restart from the stack the scriptSig left (never empty here: HASH160 would have failed).
    const copy = stackAfterSig.slice();
    const redeemScript = copy.pop() as Uint8Array;
    const redeemExec = new ScriptExecution({
      script: redeemScript,
      stack: copy,
      flags,
      checker,
      sigVersion: 'base',
      limits,
    });
    yield { stage: 'redeemScript', execution: redeemExec };
    if (redeemExec.run() !== 'OK') {
      return failure(redeemExec.error as ScriptErrorName, 'redeemScript', redeemExec);
    }
    stack = redeemExec.stack;
    if (stack.length === 0 || !castToBool(stack[stack.length - 1] as Uint8Array)) {
      return failure('EVAL_FALSE', 'redeemScript');
    }

    // P2SH-wrapped witness program.
    if ((flags & ScriptFlag.WITNESS) !== 0) {
      const wp = witnessProgram(redeemScript);
      if (wp !== undefined) {
        hadWitness = true;
        // The scriptSig must be exactly one push of the redeem script.
        if (!equalBytes(scriptSig, encodePush(redeemScript))) {
          return failure('WITNESS_MALLEATED_P2SH', 'witnessProgram');
        }
        const r = yield* verifyWitnessProgram(witness, wp.version, wp.program, flags, checker, true, limits);
        if (!r.ok) return r;
        stack = stack.slice(0, 1);
      }
    }
  }

  // CLEANSTACK applies after P2SH evaluation (the P2SH inputs would otherwise remain).
  if ((flags & ScriptFlag.CLEANSTACK) !== 0 && stack.length !== 1) return failure('CLEANSTACK', 'final');

  if ((flags & ScriptFlag.WITNESS) !== 0 && !hadWitness && witness.length > 0) {
    return failure('WITNESS_UNEXPECTED', 'final');
  }
  return { ok: true };
}

/** Core's VerifyWitnessProgram. */
function* verifyWitnessProgram(
  witness: readonly Uint8Array[],
  version: number,
  program: Uint8Array,
  flags: number,
  checker: SignatureChecker,
  isP2sh: boolean,
  limits: ExecutionLimits | undefined,
): Generator<StageExecution, VerifyScriptResult, void> {
  if (version === 0) {
    if (program.length === 32) {
      // P2WSH: the last witness item is the script, committed to by SHA-256.
      if (witness.length === 0) return failure('WITNESS_PROGRAM_WITNESS_EMPTY', 'witnessProgram');
      const script = witness[witness.length - 1] as Uint8Array;
      if (!equalBytes(sha256(script), program)) return failure('WITNESS_PROGRAM_MISMATCH', 'witnessProgram');
      return yield* executeWitnessScript(
        witness.slice(0, -1),
        script,
        flags,
        'witness_v0',
        checker,
        { codeseparatorPos: 0xffffffff },
        limits,
      );
    }
    if (program.length === 20) {
      // P2WPKH: exactly signature and key, run through the implied P2PKH script.
      if (witness.length !== 2) return failure('WITNESS_PROGRAM_MISMATCH', 'witnessProgram');
      const script = new Uint8Array(25);
      script.set([Op.OP_DUP, Op.OP_HASH160, 20], 0);
      script.set(program, 3);
      script.set([Op.OP_EQUALVERIFY, Op.OP_CHECKSIG], 23);
      return yield* executeWitnessScript(
        witness,
        script,
        flags,
        'witness_v0',
        checker,
        { codeseparatorPos: 0xffffffff },
        limits,
      );
    }
    return failure('WITNESS_PROGRAM_WRONG_LENGTH', 'witnessProgram');
  }

  if (version === 1 && program.length === 32 && !isP2sh) {
    if ((flags & ScriptFlag.TAPROOT) === 0) return { ok: true };
    if (witness.length === 0) return failure('WITNESS_PROGRAM_WITNESS_EMPTY', 'witnessProgram');
    let stack = witness;
    const execData: ScriptExecutionData = { codeseparatorPos: 0xffffffff };
    const last = stack[stack.length - 1] as Uint8Array;
    if (stack.length >= 2 && last.length > 0 && last[0] === ANNEX_TAG) {
      // The annex is dropped from the stack but committed to by the signature hash.
      execData.annex = last;
      stack = stack.slice(0, -1);
    }
    if (stack.length === 1) {
      // Key path.
      const r = checker.checkSchnorrSignature(stack[0] as Uint8Array, program, 'taproot', execData);
      return r.ok ? { ok: true } : failure(r.error, 'keyPath');
    }
    // Script path.
    const control = stack[stack.length - 1] as Uint8Array;
    const script = stack[stack.length - 2] as Uint8Array;
    stack = stack.slice(0, -2);
    if (!isValidControlBlockSize(control.length))
      return failure('TAPROOT_WRONG_CONTROL_SIZE', 'witnessProgram');
    const leafVersion = (control[0] as number) & TAPROOT_LEAF_MASK;
    const leafHash = tapleafHash(leafVersion, script);
    if (!verifyTaprootCommitment(control, program, leafHash)) {
      return failure('WITNESS_PROGRAM_MISMATCH', 'witnessProgram');
    }
    execData.tapleafHash = leafHash;
    if (leafVersion === TAPROOT_LEAF_TAPSCRIPT) {
      execData.validationWeightLeft = witnessSerializedSize(witness) + VALIDATION_WEIGHT_OFFSET;
      return yield* executeWitnessScript(stack, script, flags, 'tapscript', checker, execData, limits);
    }
    if ((flags & ScriptFlag.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION) !== 0) {
      return failure('DISCOURAGE_UPGRADABLE_TAPROOT_VERSION', 'witnessProgram');
    }
    return { ok: true };
  }

  if ((flags & ScriptFlag.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM) !== 0) {
    return failure('DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM', 'witnessProgram');
  }
  // Other versions, sizes and P2SH-wrapped v1 succeed, for future soft forks.
  return { ok: true };
}

/** Core's ExecuteWitnessScript. */
function* executeWitnessScript(
  stack: readonly Uint8Array[],
  script: Uint8Array,
  flags: number,
  sigVersion: SigVersion,
  checker: SignatureChecker,
  execData: ScriptExecutionData,
  limits: ExecutionLimits | undefined,
): Generator<StageExecution, VerifyScriptResult, void> {
  const parsed = parseScript(script);
  const stage: ScriptStage = sigVersion === 'tapscript' ? 'tapscript' : 'witnessScript';
  if (sigVersion === 'tapscript') {
    // OP_SUCCESSx overrides everything, even a later instruction that fails to parse.
    for (let i = 0; i < parsed.count; i++) {
      if (isOpSuccess(parsed.opcodes[i] as number)) {
        if ((flags & ScriptFlag.DISCOURAGE_OP_SUCCESS) !== 0) {
          return {
            ok: false,
            error: 'DISCOURAGE_OP_SUCCESS',
            script: stage,
            opcodeIndex: i,
            byteOffset: parsed.offsets[i],
          };
        }
        return { ok: true };
      }
    }
    if (parsed.truncated) {
      return {
        ok: false,
        error: 'BAD_OPCODE',
        script: stage,
        opcodeIndex: parsed.count,
        byteOffset: parsed.offsets[parsed.count],
      };
    }
    // Tapscript limits the initial stack (the altstack is empty).
    if (stack.length > (limits?.maxStackSize ?? MAX_STACK_SIZE)) return failure('STACK_SIZE', stage);
  }
  const maxElement = limits?.maxElementSize ?? MAX_SCRIPT_ELEMENT_SIZE;
  for (const item of stack) if (item.length > maxElement) return failure('PUSH_SIZE', stage);

  const exec = new ScriptExecution({ script: parsed, stack, flags, checker, sigVersion, execData, limits });
  yield { stage, execution: exec };
  if (exec.run() !== 'OK') return failure(exec.error as ScriptErrorName, stage, exec);
  // Witness scripts implicitly require a clean stack.
  if (exec.stack.length !== 1) return failure('CLEANSTACK', stage);
  if (!castToBool(exec.stack[0] as Uint8Array)) return failure('EVAL_FALSE', stage);
  return { ok: true };
}

/**
 * Core's VerifyScript: checks that `scriptSig` + `witness` satisfy `scriptPubKey` under `flags`.
 * Returns `{ ok: true }` or the error with Core's name and where it happened.
 */
export function verifyScript(
  scriptSig: Uint8Array,
  scriptPubKey: Uint8Array,
  witness: Uint8Array[],
  flags: number,
  checker: SignatureChecker,
  options?: VerifyScriptOptions,
): VerifyScriptResult {
  const stages = verifyScriptStages(scriptSig, scriptPubKey, witness, flags, checker, options);
  let r = stages.next();
  while (!r.done) r = stages.next();
  return r.value;
}
