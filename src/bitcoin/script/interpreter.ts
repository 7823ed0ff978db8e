/**
 * The script interpreter: Bitcoin Core's EvalScript as a resumable execution.
 *
 * One `ScriptExecution` runs one script (a scriptSig, a scriptPubKey, a redeem script, a witness
 * script or a tapscript) over a stack. `run()` executes to the end; `step()` executes one instruction.
 * Both go through the same loop (`advance`), so what a debugger shows is what verification does.
 *
 * Opcodes inside the loop are numeric literals (named in comments) so the switch compiles to a jump table.
 *
 * Speed: the script is parsed once into flat arrays; pushes are views into the script; small numbers
 * come from a shared cache (stack items are never mutated in place, so sharing is safe); failures are
 * return values, never exceptions; the condition stack is Core's O(1) ConditionStack.
 */
import { equalBytes } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import {
  NoSignatureChecker,
  type ScriptExecutionData,
  type SignatureChecker,
  type SigVersion,
} from './checker.ts';
import type { ScriptErrorName } from './errors.ts';
import { ScriptFlag } from './flags.ts';
import { castToBool, decodeScriptNumOrNaN, encodeScriptNum } from './num.ts';
import { opHash160, opHash256, opRipemd160, opSha1, opSha256 } from './op-hashes.ts';
import { isDisabledOpcode, Op } from './opcodes.ts';
import { encodePush, findAndDelete, type ParsedScript, parseScript } from './script.ts';
import { checkPubKeyEncoding, checkSignatureEncoding } from './sigencoding.ts';

export const MAX_SCRIPT_ELEMENT_SIZE = 520;
export const MAX_OPS_PER_SCRIPT = 201;
export const MAX_PUBKEYS_PER_MULTISIG = 20;
export const MAX_SCRIPT_SIZE = 10_000;
export const MAX_STACK_SIZE = 1000;
export const VALIDATION_WEIGHT_PER_SIGOP_PASSED = 50;
export const VALIDATION_WEIGHT_OFFSET = 50;
export const LOCKTIME_DISABLE_FLAG = 0x80000000;

/**
 * Limits for off-chain work (e.g. BitVM circuits larger than a block allows). Every field defaults to
 * Bitcoin's consensus value; verifyScript's consensus path never passes these.
 */
export type ExecutionLimits = {
  /** stack + altstack element limit (consensus: 1000). `Infinity` lifts it. */
  maxStackSize?: number;
  /** Largest push / witness element (consensus: 520 bytes). */
  maxElementSize?: number;
  /** Script size limit for legacy and witness v0 scripts (consensus: 10,000 bytes). */
  maxScriptSize?: number;
  /** Counted-opcode limit for legacy and witness v0 scripts (consensus: 201). */
  maxOpsPerScript?: number;
};

/** 'taproot' is the key path: it has a signature but no script to execute. */
export class InvalidSigVersionError extends VigilError {
  override name = 'InvalidSigVersionError';
  constructor() {
    super('A script execution needs sigVersion base, witness_v0 or tapscript', {
      metaMessages: ['sigVersion "taproot" is the key path: it verifies a signature and runs no script.'],
    });
  }
}

export type ExecutionStatus = 'running' | 'ok' | 'error';

export type ScriptExecutionInit = {
  script: Uint8Array | ParsedScript;
  /** Initial stack (copied; bottom first). */
  stack?: readonly Uint8Array[];
  flags: number;
  checker: SignatureChecker;
  sigVersion: SigVersion;
  /** BIP-341/342 data shared with the checker (tapleaf hash, annex, validation weight). */
  execData?: ScriptExecutionData;
  limits?: ExecutionLimits;
};

const DISABLED = new Uint8Array(256);
for (let i = 0; i < 256; i++) DISABLED[i] = isDisabledOpcode(i) ? 1 : 0;

const EMPTY = new Uint8Array(0);
const TRUE = Uint8Array.of(1);

function minimalPushOk(data: Uint8Array, opcode: number): boolean {
  const n = data.length;
  if (n === 0) return opcode === Op.OP_0;
  if (n === 1 && (data[0] as number) >= 1 && (data[0] as number) <= 16) return false;
  if (n === 1 && data[0] === 0x81) return false;
  if (n <= 75) return opcode === n;
  if (n <= 255) return opcode === Op.OP_PUSHDATA1;
  if (n <= 65535) return opcode === Op.OP_PUSHDATA2;
  return true;
}

export class ScriptExecution {
  readonly script: ParsedScript;
  readonly flags: number;
  readonly checker: SignatureChecker;
  readonly sigVersion: SigVersion;
  readonly execData: ScriptExecutionData;
  /** Main stack, bottom first. Treat as read-only from outside. */
  readonly stack: Uint8Array[];
  /** Alt stack, bottom first. Treat as read-only from outside. */
  readonly altstack: Uint8Array[] = [];

  private readonly maxStack: number;
  private readonly maxElement: number;
  private readonly maxOps: number;
  private readonly tapscript: boolean;

  private index = 0;
  private opCount = 0;
  private condSize = 0;
  /** Index of the first false entry of the condition stack, -1 when all true (Core's ConditionStack). */
  private firstFalse = -1;
  /** Byte offset where the scriptCode starts (after the last executed OP_CODESEPARATOR). */
  private codeStart = 0;
  private state: ExecutionStatus = 'running';
  private err: ScriptErrorName | undefined;
  private errIndex = -1;

  constructor(init: ScriptExecutionInit) {
    this.script = init.script instanceof Uint8Array ? parseScript(init.script) : init.script;
    this.flags = init.flags;
    this.checker = init.checker;
    this.sigVersion = init.sigVersion;
    this.execData = init.execData ?? { codeseparatorPos: 0xffffffff };
    this.execData.codeseparatorPos = 0xffffffff;
    this.stack = init.stack ? init.stack.slice() : [];
    const limits = init.limits ?? {};
    this.maxStack = limits.maxStackSize ?? MAX_STACK_SIZE;
    this.maxElement = limits.maxElementSize ?? MAX_SCRIPT_ELEMENT_SIZE;
    this.maxOps = limits.maxOpsPerScript ?? MAX_OPS_PER_SCRIPT;
    this.tapscript = init.sigVersion === 'tapscript';
    if (init.sigVersion === 'taproot') throw new InvalidSigVersionError();
    const maxScript = limits.maxScriptSize ?? MAX_SCRIPT_SIZE;
    if (!this.tapscript && this.script.bytes.length > maxScript) this.fail('SCRIPT_SIZE', 0);
    else if (this.script.count === 0 && !this.script.truncated) this.finish();
  }

  /** 'running' until the script ends ('ok') or fails ('error'). */
  get status(): ExecutionStatus {
    return this.state;
  }
  get done(): boolean {
    return this.state !== 'running';
  }
  /** The error once failed, 'OK' once succeeded, undefined while running. */
  get error(): ScriptErrorName | undefined {
    return this.state === 'ok' ? 'OK' : this.err;
  }
  /** Index of the instruction that failed (or -1). */
  get errorOpcodeIndex(): number {
    return this.errIndex;
  }
  /** Index of the next instruction to execute (= number of instructions executed so far). */
  get opcodeIndex(): number {
    return this.index;
  }
  /** Byte offset of the next instruction (script length at the end). */
  get byteOffset(): number {
    return this.script.offsetOf(this.index);
  }
  /** The bytes not yet executed. */
  get remainingScript(): Uint8Array {
    return this.script.bytes.subarray(this.byteOffset);
  }
  /** The next instruction, undefined at the end (or at an unparsable tail: `opcode` -1). */
  get nextInstruction(): { opcode: number; data?: Uint8Array; offset: number } | undefined {
    const i = this.index;
    if (this.state !== 'running') return undefined;
    if (i >= this.script.count) return { opcode: -1, offset: this.script.offsets[i] as number };
    const data = this.script.pushData(i);
    const opcode = this.script.opcodes[i] as number;
    const offset = this.script.offsets[i] as number;
    return data === undefined ? { opcode, offset } : { opcode, data, offset };
  }
  /** The condition (exec) stack, bottom first: true = branch executing. */
  get conditionStack(): boolean[] {
    const out: boolean[] = [];
    for (let i = 0; i < this.condSize; i++) out.push(this.firstFalse < 0 || i < this.firstFalse);
    return out;
  }
  /** Whether the next instruction would execute (all conditions true). */
  get executing(): boolean {
    return this.firstFalse < 0;
  }
  /** Counted opcodes so far (legacy/v0 limit of 201). */
  get opCountSoFar(): number {
    return this.opCount;
  }

  /** Executes one instruction. Returns the status afterwards. */
  step(): ExecutionStatus {
    if (this.state === 'running') this.advance(1);
    return this.state;
  }

  /** Executes to the end. Returns 'OK' or the error name. */
  run(): ScriptErrorName {
    if (this.state === 'running') this.advance(Number.POSITIVE_INFINITY);
    return this.error as ScriptErrorName;
  }

  private fail(error: ScriptErrorName, index: number): void {
    this.state = 'error';
    this.err = error;
    this.errIndex = index;
  }

  private finish(): void {
    if (this.condSize !== 0) this.fail('UNBALANCED_CONDITIONAL', this.script.count);
    else this.state = 'ok';
  }

  private scriptCode(): Uint8Array {
    return this.script.bytes.subarray(this.codeStart);
  }

  /** The interpreter loop: at most `limit` instructions. */
  private advance(limit: number): void {
    const p = this.script;
    const opcodes = p.opcodes;
    const bytes = p.bytes;
    const dataStarts = p.dataStarts;
    const ends = p.ends;
    const count = p.count;
    const stack = this.stack;
    const alt = this.altstack;
    const flags = this.flags;
    const minimal = (flags & ScriptFlag.MINIMALDATA) !== 0;
    const tapscript = this.tapscript;
    const base = this.sigVersion === 'base';
    const constScriptCode = base && (flags & ScriptFlag.CONST_SCRIPTCODE) !== 0;
    const maxStack = this.maxStack;
    const maxElement = this.maxElement;
    const maxOps = this.maxOps;
    let i = this.index;
    let opCount = this.opCount;
    let condSize = this.condSize;
    let firstFalse = this.firstFalse;
    let err: ScriptErrorName | undefined;
    let steps = 0;

    while (steps < limit) {
      if (i >= count) {
        if (p.truncated) err = 'BAD_OPCODE';
        break;
      }
      const opcode = opcodes[i] as number;
      const fExec = firstFalse < 0;

      if (opcode <= 0x4e /* OP_PUSHDATA4 */) {
        const start = dataStarts[i] as number;
        const end = ends[i] as number;
        if (end - start > maxElement) {
          err = 'PUSH_SIZE';
          break;
        }
        if (fExec) {
          const data = bytes.subarray(start, end);
          if (minimal && !minimalPushOk(data, opcode)) {
            err = 'MINIMALDATA';
            break;
          }
          stack.push(data);
        }
        if (stack.length + alt.length > maxStack) {
          err = 'STACK_SIZE';
          break;
        }
        i++;
        steps++;
        continue;
      }

      // Note how OP_RESERVED (0x50) does not count towards the opcode limit.
      if (!tapscript && opcode > 0x60 /* OP_16 */ && ++opCount > maxOps) {
        err = 'OP_COUNT';
        break;
      }
      if (DISABLED[opcode] === 1) {
        err = 'DISABLED_OPCODE';
        break;
      }
      if (opcode === 0xab /* OP_CODESEPARATOR */ && constScriptCode) {
        err = 'OP_CODESEPARATOR';
        break;
      }

      if (fExec || (opcode >= 0x63 /* OP_IF */ && opcode <= 0x68) /* OP_ENDIF */) {
        const n = stack.length;
        switch (opcode) {
          case 0x4f: // OP_1NEGATE
          case 0x51: // OP_1
          case 0x52: // OP_2
          case 0x53: // OP_3
          case 0x54: // OP_4
          case 0x55: // OP_5
          case 0x56: // OP_6
          case 0x57: // OP_7
          case 0x58: // OP_8
          case 0x59: // OP_9
          case 0x5a: // OP_10
          case 0x5b: // OP_11
          case 0x5c: // OP_12
          case 0x5d: // OP_13
          case 0x5e: // OP_14
          case 0x5f: // OP_15
          case 0x60: // OP_16
            stack.push(encodeScriptNum(opcode - (0x51 /* OP_1 */ - 1)));
            break;

          case 0x61: // OP_NOP
            break;

          case 0xb1: {
            // OP_CHECKLOCKTIMEVERIFY
            // Not enabled: a plain NOP2, never discouraged (flags stay backward compatible, Core PR #10699).
            if ((flags & ScriptFlag.CHECKLOCKTIMEVERIFY) === 0) break;
            if (n < 1) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const lockTime = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 5);
            if (Number.isNaN(lockTime)) err = 'UNKNOWN_ERROR';
            else if (lockTime < 0) err = 'NEGATIVE_LOCKTIME';
            else if (!this.checker.checkLockTime(BigInt(lockTime))) err = 'UNSATISFIED_LOCKTIME';
            break;
          }

          case 0xb2: {
            // OP_CHECKSEQUENCEVERIFY
            // Not enabled: a plain NOP3, never discouraged (flags stay backward compatible, Core PR #10699).
            if ((flags & ScriptFlag.CHECKSEQUENCEVERIFY) === 0) break;
            if (n < 1) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const sequence = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 5);
            if (Number.isNaN(sequence)) err = 'UNKNOWN_ERROR';
            else if (sequence < 0) err = 'NEGATIVE_LOCKTIME';
            // The disable flag makes CSV a NOP, for future soft forks.
            else if (sequence >= 0 && Math.floor(sequence / LOCKTIME_DISABLE_FLAG) % 2 === 1) break;
            else if (!this.checker.checkSequence(BigInt(sequence))) err = 'UNSATISFIED_LOCKTIME';
            break;
          }

          case 0xb0: // OP_NOP1
          case 0xb3: // OP_NOP4
          case 0xb4: // OP_NOP5
          case 0xb5: // OP_NOP6
          case 0xb6: // OP_NOP7
          case 0xb7: // OP_NOP8
          case 0xb8: // OP_NOP9
          case 0xb9: // OP_NOP10
            if ((flags & ScriptFlag.DISCOURAGE_UPGRADABLE_NOPS) !== 0) err = 'DISCOURAGE_UPGRADABLE_NOPS';
            break;

          case 0x63: // OP_IF
          case 0x64: {
            // OP_NOTIF
            let value = false;
            if (fExec) {
              if (n < 1) {
                err = 'UNBALANCED_CONDITIONAL';
                break;
              }
              const v = stack[n - 1] as Uint8Array;
              if (tapscript) {
                // BIP-342: the argument must be exactly empty or exactly 0x01 (consensus).
                if (v.length > 1 || (v.length === 1 && v[0] !== 1)) {
                  err = 'TAPSCRIPT_MINIMALIF';
                  break;
                }
              } else if (this.sigVersion === 'witness_v0' && (flags & ScriptFlag.MINIMALIF) !== 0) {
                if (v.length > 1 || (v.length === 1 && v[0] !== 1)) {
                  err = 'MINIMALIF';
                  break;
                }
              }
              value = castToBool(v);
              if (opcode === 0x64 /* OP_NOTIF */) value = !value;
              stack.pop();
            }
            if (!value && firstFalse < 0) firstFalse = condSize;
            condSize++;
            break;
          }

          case 0x67: // OP_ELSE
            if (condSize === 0) {
              err = 'UNBALANCED_CONDITIONAL';
              break;
            }
            if (firstFalse < 0) firstFalse = condSize - 1;
            else if (firstFalse === condSize - 1) firstFalse = -1;
            break;

          case 0x68: // OP_ENDIF
            if (condSize === 0) {
              err = 'UNBALANCED_CONDITIONAL';
              break;
            }
            if (firstFalse === condSize - 1) firstFalse = -1;
            condSize--;
            break;

          case 0x69: // OP_VERIFY
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else if (castToBool(stack[n - 1] as Uint8Array)) stack.pop();
            else err = 'VERIFY';
            break;

          case 0x6a: // OP_RETURN
            err = 'OP_RETURN';
            break;

          case 0x6b: // OP_TOALTSTACK
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else alt.push(stack.pop() as Uint8Array);
            break;

          case 0x6c: // OP_FROMALTSTACK
            if (alt.length < 1) err = 'INVALID_ALTSTACK_OPERATION';
            else stack.push(alt.pop() as Uint8Array);
            break;

          case 0x6d: // OP_2DROP
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else stack.length = n - 2;
            break;

          case 0x6e: // OP_2DUP
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else stack.push(stack[n - 2] as Uint8Array, stack[n - 1] as Uint8Array);
            break;

          case 0x6f: // OP_3DUP
            if (n < 3) err = 'INVALID_STACK_OPERATION';
            else
              stack.push(stack[n - 3] as Uint8Array, stack[n - 2] as Uint8Array, stack[n - 1] as Uint8Array);
            break;

          case 0x70: // OP_2OVER
            if (n < 4) err = 'INVALID_STACK_OPERATION';
            else stack.push(stack[n - 4] as Uint8Array, stack[n - 3] as Uint8Array);
            break;

          case 0x71: // OP_2ROT
            if (n < 6) err = 'INVALID_STACK_OPERATION';
            else {
              const a = stack[n - 6] as Uint8Array;
              const b = stack[n - 5] as Uint8Array;
              stack.splice(n - 6, 2);
              stack.push(a, b);
            }
            break;

          case 0x72: // OP_2SWAP
            if (n < 4) err = 'INVALID_STACK_OPERATION';
            else {
              const a = stack[n - 4] as Uint8Array;
              const b = stack[n - 3] as Uint8Array;
              stack[n - 4] = stack[n - 2] as Uint8Array;
              stack[n - 3] = stack[n - 1] as Uint8Array;
              stack[n - 2] = a;
              stack[n - 1] = b;
            }
            break;

          case 0x73: // OP_IFDUP
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else if (castToBool(stack[n - 1] as Uint8Array)) stack.push(stack[n - 1] as Uint8Array);
            break;

          case 0x74: // OP_DEPTH
            stack.push(encodeScriptNum(n));
            break;

          case 0x75: // OP_DROP
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else stack.pop();
            break;

          case 0x76: // OP_DUP
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else stack.push(stack[n - 1] as Uint8Array);
            break;

          case 0x77: // OP_NIP
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else {
              stack[n - 2] = stack[n - 1] as Uint8Array;
              stack.pop();
            }
            break;

          case 0x78: // OP_OVER
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else stack.push(stack[n - 2] as Uint8Array);
            break;

          case 0x79: // OP_PICK
          case 0x7a: {
            // OP_ROLL
            if (n < 2) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const k = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 4);
            if (Number.isNaN(k)) {
              err = 'UNKNOWN_ERROR';
              break;
            }
            stack.pop();
            if (k < 0 || k >= n - 1) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const at = n - 2 - k;
            const v = stack[at] as Uint8Array;
            if (opcode === 0x7a /* OP_ROLL */) {
              for (let j = at; j < n - 2; j++) stack[j] = stack[j + 1] as Uint8Array;
              stack[n - 2] = v;
            } else {
              stack.push(v);
            }
            break;
          }

          case 0x7b: // OP_ROT
            if (n < 3) err = 'INVALID_STACK_OPERATION';
            else {
              const a = stack[n - 3] as Uint8Array;
              stack[n - 3] = stack[n - 2] as Uint8Array;
              stack[n - 2] = stack[n - 1] as Uint8Array;
              stack[n - 1] = a;
            }
            break;

          case 0x7c: // OP_SWAP
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else {
              const a = stack[n - 2] as Uint8Array;
              stack[n - 2] = stack[n - 1] as Uint8Array;
              stack[n - 1] = a;
            }
            break;

          case 0x7d: // OP_TUCK
            if (n < 2) err = 'INVALID_STACK_OPERATION';
            else {
              const top = stack[n - 1] as Uint8Array;
              stack.push(top);
              stack[n - 1] = stack[n - 2] as Uint8Array;
              stack[n - 2] = top;
            }
            break;

          case 0x82: // OP_SIZE
            if (n < 1) err = 'INVALID_STACK_OPERATION';
            else stack.push(encodeScriptNum((stack[n - 1] as Uint8Array).length));
            break;

          case 0x87: // OP_EQUAL
          case 0x88: {
            // OP_EQUALVERIFY
            if (n < 2) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const equal = equalBytes(stack[n - 2] as Uint8Array, stack[n - 1] as Uint8Array);
            stack.length = n - 2;
            if (opcode === 0x88 /* OP_EQUALVERIFY */) {
              if (!equal) {
                stack.push(EMPTY);
                err = 'EQUALVERIFY';
              }
            } else stack.push(equal ? TRUE : EMPTY);
            break;
          }

          case 0x8b: // OP_1ADD
          case 0x8c: // OP_1SUB
          case 0x8f: // OP_NEGATE
          case 0x90: // OP_ABS
          case 0x91: // OP_NOT
          case 0x92: {
            // OP_0NOTEQUAL
            if (n < 1) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            let a = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 4);
            if (Number.isNaN(a)) {
              err = 'UNKNOWN_ERROR';
              break;
            }
            switch (opcode) {
              case 0x8b: // OP_1ADD
                a += 1;
                break;
              case 0x8c: // OP_1SUB
                a -= 1;
                break;
              case 0x8f: // OP_NEGATE
                a = -a;
                break;
              case 0x90: // OP_ABS
                if (a < 0) a = -a;
                break;
              case 0x91: // OP_NOT
                a = a === 0 ? 1 : 0;
                break;
              default:
                a = a !== 0 ? 1 : 0;
            }
            stack[n - 1] = encodeScriptNum(a + 0);
            break;
          }

          case 0x93: // OP_ADD
          case 0x94: // OP_SUB
          case 0x9a: // OP_BOOLAND
          case 0x9b: // OP_BOOLOR
          case 0x9c: // OP_NUMEQUAL
          case 0x9d: // OP_NUMEQUALVERIFY
          case 0x9e: // OP_NUMNOTEQUAL
          case 0x9f: // OP_LESSTHAN
          case 0xa0: // OP_GREATERTHAN
          case 0xa1: // OP_LESSTHANOREQUAL
          case 0xa2: // OP_GREATERTHANOREQUAL
          case 0xa3: // OP_MIN
          case 0xa4: {
            // OP_MAX
            if (n < 2) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const a = decodeScriptNumOrNaN(stack[n - 2] as Uint8Array, minimal, 4);
            const b = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 4);
            if (Number.isNaN(a) || Number.isNaN(b)) {
              err = 'UNKNOWN_ERROR';
              break;
            }
            let r: number;
            switch (opcode) {
              case 0x93: // OP_ADD
                r = a + b;
                break;
              case 0x94: // OP_SUB
                r = a - b;
                break;
              case 0x9a: // OP_BOOLAND
                r = a !== 0 && b !== 0 ? 1 : 0;
                break;
              case 0x9b: // OP_BOOLOR
                r = a !== 0 || b !== 0 ? 1 : 0;
                break;
              case 0x9c: // OP_NUMEQUAL
              case 0x9d: // OP_NUMEQUALVERIFY
                r = a === b ? 1 : 0;
                break;
              case 0x9e: // OP_NUMNOTEQUAL
                r = a !== b ? 1 : 0;
                break;
              case 0x9f: // OP_LESSTHAN
                r = a < b ? 1 : 0;
                break;
              case 0xa0: // OP_GREATERTHAN
                r = a > b ? 1 : 0;
                break;
              case 0xa1: // OP_LESSTHANOREQUAL
                r = a <= b ? 1 : 0;
                break;
              case 0xa2: // OP_GREATERTHANOREQUAL
                r = a >= b ? 1 : 0;
                break;
              case 0xa3: // OP_MIN
                r = Math.min(a, b);
                break;
              default:
                r = Math.max(a, b);
            }
            stack.pop();
            // `+ 0` turns -0 into 0 so the cache lookup stays in range.
            stack[n - 2] = encodeScriptNum(r + 0);
            if (opcode === 0x9d /* OP_NUMEQUALVERIFY */) {
              if (r === 1) stack.pop();
              else err = 'NUMEQUALVERIFY';
            }
            break;
          }

          case 0xa5: {
            // OP_WITHIN
            if (n < 3) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const x = decodeScriptNumOrNaN(stack[n - 3] as Uint8Array, minimal, 4);
            const lo = decodeScriptNumOrNaN(stack[n - 2] as Uint8Array, minimal, 4);
            const hi = decodeScriptNumOrNaN(stack[n - 1] as Uint8Array, minimal, 4);
            if (Number.isNaN(x) || Number.isNaN(lo) || Number.isNaN(hi)) {
              err = 'UNKNOWN_ERROR';
              break;
            }
            stack.length = n - 2;
            stack[n - 3] = lo <= x && x < hi ? TRUE : EMPTY;
            break;
          }

          case 0xa6: // OP_RIPEMD160
          case 0xa7: // OP_SHA1
          case 0xa8: // OP_SHA256
          case 0xa9: // OP_HASH160
          case 0xaa: {
            // OP_HASH256
            if (n < 1) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const v = stack[n - 1] as Uint8Array;
            stack[n - 1] =
              opcode === 0xa6 /* OP_RIPEMD160 */
                ? opRipemd160(v)
                : opcode === 0xa7 /* OP_SHA1 */
                  ? opSha1(v)
                  : opcode === 0xa8 /* OP_SHA256 */
                    ? opSha256(v)
                    : opcode === 0xa9 /* OP_HASH160 */
                      ? opHash160(v)
                      : opHash256(v);
            break;
          }

          case 0xab: // OP_CODESEPARATOR
            // The scriptCode starts after the last executed code separator.
            this.codeStart = p.ends[i] as number;
            this.execData.codeseparatorPos = i;
            break;

          case 0xac: // OP_CHECKSIG
          case 0xad: {
            // OP_CHECKSIGVERIFY
            if (n < 2) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const sig = stack[n - 2] as Uint8Array;
            const key = stack[n - 1] as Uint8Array;
            const r = tapscript ? this.checksigTapscript(sig, key) : this.checksigPreTapscript(sig, key);
            if (typeof r === 'string') {
              err = r;
              break;
            }
            stack.length = n - 2;
            if (opcode === 0xad /* OP_CHECKSIGVERIFY */) {
              if (!r) {
                stack.push(EMPTY);
                err = 'CHECKSIGVERIFY';
              }
            } else stack.push(r ? TRUE : EMPTY);
            break;
          }

          case 0xba: {
            // OP_CHECKSIGADD
            if (!tapscript) {
              err = 'BAD_OPCODE';
              break;
            }
            if (n < 3) {
              err = 'INVALID_STACK_OPERATION';
              break;
            }
            const sig = stack[n - 3] as Uint8Array;
            const num = decodeScriptNumOrNaN(stack[n - 2] as Uint8Array, minimal, 4);
            if (Number.isNaN(num)) {
              err = 'UNKNOWN_ERROR';
              break;
            }
            const r = this.checksigTapscript(sig, stack[n - 1] as Uint8Array);
            if (typeof r === 'string') {
              err = r;
              break;
            }
            stack.length = n - 3;
            stack.push(encodeScriptNum(num + (r ? 1 : 0)));
            break;
          }

          case 0xae: // OP_CHECKMULTISIG
          case 0xaf: {
            // OP_CHECKMULTISIGVERIFY
            if (tapscript) {
              err = 'TAPSCRIPT_CHECKMULTISIG';
              break;
            }
            const r = this.checkmultisig(opCount);
            if (typeof r === 'string') {
              err = r;
              break;
            }
            opCount = r.opCount;
            if (opcode === 0xaf /* OP_CHECKMULTISIGVERIFY */) {
              if (r.success) stack.pop();
              else err = 'CHECKMULTISIGVERIFY';
            }
            break;
          }

          default:
            err = 'BAD_OPCODE';
        }
        if (err !== undefined) break;
      }
      // Core checks the combined size after every instruction, executed or not.
      if (stack.length + alt.length > maxStack) {
        err = 'STACK_SIZE';
        break;
      }
      i++;
      steps++;
    }

    this.index = i;
    this.opCount = opCount;
    this.condSize = condSize;
    this.firstFalse = firstFalse;
    if (err !== undefined) this.fail(err, i);
    else if (i >= count && !p.truncated) this.finish();
  }

  /** Core's EvalChecksigPreTapscript: the result, or the error that aborts the script. */
  private checksigPreTapscript(sig: Uint8Array, key: Uint8Array): boolean | ScriptErrorName {
    let scriptCode = this.scriptCode();
    if (this.sigVersion === 'base') {
      const r = findAndDelete(scriptCode, encodePush(sig));
      if (r.found > 0 && (this.flags & ScriptFlag.CONST_SCRIPTCODE) !== 0) return 'SIG_FINDANDDELETE';
      scriptCode = r.script;
    }
    const encErr =
      checkSignatureEncoding(sig, this.flags) ?? checkPubKeyEncoding(key, this.flags, this.sigVersion);
    if (encErr !== undefined) return encErr;
    const ok = this.checker.checkEcdsaSignature(sig, key, scriptCode, this.sigVersion);
    if (!ok && (this.flags & ScriptFlag.NULLFAIL) !== 0 && sig.length > 0) return 'NULLFAIL';
    return ok;
  }

  /** Core's EvalChecksigTapscript. The order of these checks is consensus-critical. */
  private checksigTapscript(sig: Uint8Array, key: Uint8Array): boolean | ScriptErrorName {
    const success = sig.length > 0;
    if (success) {
      // Passing with an upgradable public key type is counted too.
      const left = (this.execData.validationWeightLeft ?? 0) - VALIDATION_WEIGHT_PER_SIGOP_PASSED;
      this.execData.validationWeightLeft = left;
      if (left < 0) return 'TAPSCRIPT_VALIDATION_WEIGHT';
    }
    if (key.length === 0) return 'PUBKEYTYPE';
    if (key.length === 32) {
      if (success) {
        const r = this.checker.checkSchnorrSignature(sig, key, 'tapscript', this.execData);
        if (!r.ok) return r.error;
      }
    } else if ((this.flags & ScriptFlag.DISCOURAGE_UPGRADABLE_PUBKEYTYPE) !== 0) {
      return 'DISCOURAGE_UPGRADABLE_PUBKEYTYPE';
    }
    return success;
  }

  /** Core's OP_CHECKMULTISIG body; leaves the boolean on the stack. */
  private checkmultisig(opCountIn: number): { success: boolean; opCount: number } | ScriptErrorName {
    const stack = this.stack;
    const flags = this.flags;
    const minimal = (flags & ScriptFlag.MINIMALDATA) !== 0;
    const top = (k: number): Uint8Array => stack[stack.length - k] as Uint8Array;
    let opCount = opCountIn;
    let i = 1;
    if (stack.length < i) return 'INVALID_STACK_OPERATION';
    let keys = decodeScriptNumOrNaN(top(i), minimal, 4);
    if (Number.isNaN(keys)) return 'UNKNOWN_ERROR';
    if (keys < 0 || keys > MAX_PUBKEYS_PER_MULTISIG) return 'PUBKEY_COUNT';
    opCount += keys;
    if (opCount > this.maxOps) return 'OP_COUNT';
    let ikey = ++i;
    // ikey2 is the position of the last non-signature item (top = 1), for NULLFAIL cleanup.
    let ikey2 = keys + 2;
    i += keys;
    if (stack.length < i) return 'INVALID_STACK_OPERATION';
    let sigs = decodeScriptNumOrNaN(top(i), minimal, 4);
    if (Number.isNaN(sigs)) return 'UNKNOWN_ERROR';
    if (sigs < 0 || sigs > keys) return 'SIG_COUNT';
    let isig = ++i;
    i += sigs;
    if (stack.length < i) return 'INVALID_STACK_OPERATION';

    let scriptCode = this.scriptCode();
    if (this.sigVersion === 'base') {
      for (let k = 0; k < sigs; k++) {
        const r = findAndDelete(scriptCode, encodePush(top(isig + k)));
        if (r.found > 0 && (flags & ScriptFlag.CONST_SCRIPTCODE) !== 0) return 'SIG_FINDANDDELETE';
        scriptCode = r.script;
      }
    }

    let success = true;
    while (success && sigs > 0) {
      const sig = top(isig);
      const key = top(ikey);
      // The exact order of these checks is observable with STRICTENC (see script_tests).
      const encErr = checkSignatureEncoding(sig, flags) ?? checkPubKeyEncoding(key, flags, this.sigVersion);
      if (encErr !== undefined) return encErr;
      if (this.checker.checkEcdsaSignature(sig, key, scriptCode, this.sigVersion)) {
        isig++;
        sigs--;
      }
      ikey++;
      keys--;
      // More signatures left than keys: fail early.
      if (sigs > keys) success = false;
    }

    while (i-- > 1) {
      // With NULLFAIL a failed check requires every signature to be empty.
      if (!success && (flags & ScriptFlag.NULLFAIL) !== 0 && ikey2 === 0 && top(1).length > 0)
        return 'NULLFAIL';
      if (ikey2 > 0) ikey2--;
      stack.pop();
    }
    // The historical off-by-one: one extra element is consumed (NULLDUMMY: it must be empty).
    if (stack.length < 1) return 'INVALID_STACK_OPERATION';
    if ((flags & ScriptFlag.NULLDUMMY) !== 0 && top(1).length > 0) return 'SIG_NULLDUMMY';
    stack.pop();
    stack.push(success ? TRUE : EMPTY);
    return { success, opCount };
  }
}

export type RunScriptOptions = {
  /** Initial stack, bottom first (default empty). */
  stack?: readonly Uint8Array[];
  /** Verification flags (default none). */
  flags?: number;
  /** Default 'tapscript', the rules BitVM-style circuits are written for. */
  sigVersion?: 'base' | 'witness_v0' | 'tapscript';
  /** Default: a checker that fails every signature and timelock. */
  checker?: SignatureChecker;
  /** Off-chain limits, e.g. `{ maxStackSize: Infinity }`; default Bitcoin's. */
  limits?: ExecutionLimits;
};

export type RunScriptResult = {
  /** 'OK' when the script ran to its end without error (the final stack is not judged). */
  error: ScriptErrorName;
  /** The failing instruction's index, -1 on success. */
  opcodeIndex: number;
  stack: Uint8Array[];
  altstack: Uint8Array[];
};

/**
 * Runs one script outside any transaction, for circuit tests and research: the same interpreter as
 * verification, with a signature-less checker and an unlimited validation-weight budget.
 */
export function runScript(
  script: Uint8Array | ParsedScript,
  options: RunScriptOptions = {},
): RunScriptResult {
  const e = new ScriptExecution({
    script,
    stack: options.stack ?? [],
    flags: options.flags ?? 0,
    checker: options.checker ?? NoSignatureChecker,
    sigVersion: options.sigVersion ?? 'tapscript',
    execData: { codeseparatorPos: 0xffffffff, validationWeightLeft: Number.POSITIVE_INFINITY },
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  const error = e.run();
  return { error, opcodeIndex: e.errorOpcodeIndex, stack: e.stack, altstack: e.altstack };
}
