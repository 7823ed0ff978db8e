/**
 * A btcdeb-like debugging session over the interpreter's step API: one input of a transaction, every
 * script Core's VerifyScript runs for it (scriptSig, scriptPubKey, redeem script, witness script,
 * tapscript) in order, one instruction at a time. Pure: commands in, text lines out, so the CLI can
 * drive it from a terminal or from a script of commands, and tests can drive it directly.
 *
 * A caller that knows what the items are (the replay of a dispute knows which witness items are the
 * digits of which Winternitz-signed value) passes `labelOf`, and `stack` shows its labels beside the hex.
 */
import { bytesToHex } from '../../core/bytes.ts';
import { formatInstruction } from '../script/asm.ts';
import { formatFlags } from '../script/flags.ts';
import { decodeScript } from '../script/script.ts';
import { type StageExecution, type VerifyScriptResult, verifyScriptStages } from '../script/verify.ts';
import { TransactionSignatureChecker } from './checker.ts';
import { PrecomputedTxData } from './precomputed.ts';
import { txidHex } from './serialize.ts';
import type { Prevout, Tx } from './types.ts';

export const DEBUG_HELP = [
  'commands:',
  '  step [n]        s   execute the next n instructions (default 1)',
  '  continue        c   run to the next breakpoint or the end',
  '  break <i>       b   break before instruction i of the current script (or <stage>:<i>)',
  '  delete <i>          remove a breakpoint (same forms as break)',
  '  stack           p   show the stack, the altstack and the condition stack',
  '  info            i   where execution stands and what runs next',
  '  script              the current script with the next instruction marked',
  '  help            h   this list',
  '  quit            q   leave',
];

/**
 * Names a stack item, or says nothing (undefined). `depth` counts from the top (0 = top), as `stack`
 * prints it. A labeller must only name what it knows for certain: the label is shown as fact.
 */
export type StackItemLabeller = (
  item: Uint8Array,
  where: 'stack' | 'altstack',
  depth: number,
) => string | undefined;

export type TxDebugSessionOptions = {
  /** Labels shown beside stack and altstack items in `stack` (none without it). */
  labelOf?: StackItemLabeller;
};

export class TxDebugSession {
  private readonly gen: Generator<StageExecution, VerifyScriptResult, void>;
  private current: StageExecution | undefined;
  private finalResult: VerifyScriptResult | undefined;
  private readonly breakpoints = new Set<string>();
  readonly stagesSeen: string[] = [];
  private readonly labelOf: StackItemLabeller | undefined;

  constructor(
    readonly tx: Tx,
    readonly prevouts: readonly Prevout[],
    readonly inputIndex: number,
    readonly flags: number,
    options: TxDebugSessionOptions = {},
  ) {
    this.labelOf = options.labelOf;
    const input = tx.inputs[inputIndex];
    if (input === undefined) throw new RangeError(`input ${inputIndex} does not exist`);
    const prevout = prevouts[inputIndex]!;
    const checker = new TransactionSignatureChecker(tx, inputIndex, prevout.value, {
      precomputed: new PrecomputedTxData(tx, prevouts),
    });
    this.gen = verifyScriptStages(input.scriptSig, prevout.script, input.witness, flags, checker);
    this.advanceStage();
  }

  /** The verdict once verification has finished, undefined while it runs. */
  get result(): VerifyScriptResult | undefined {
    return this.finalResult;
  }

  get finished(): boolean {
    return this.finalResult !== undefined;
  }

  private advanceStage(): void {
    // Move past executions that are already over (finished by stepping, or empty scripts).
    for (;;) {
      const r = this.gen.next();
      if (r.done) {
        this.current = undefined;
        this.finalResult = r.value;
        return;
      }
      this.current = r.value;
      this.stagesSeen.push(r.value.stage);
      if (!r.value.execution.done) return;
    }
  }

  /** Executes one instruction; returns a line describing it, or undefined when nothing is left. */
  private stepOnce(): string | undefined {
    const cur = this.current;
    if (cur === undefined) return undefined;
    const exec = cur.execution;
    const next = exec.nextInstruction;
    const index = exec.opcodeIndex;
    const shown =
      next === undefined
        ? '(end)'
        : next.opcode < 0
          ? '[unparsable]'
          : formatInstruction(next.opcode, next.data);
    const skipped = exec.executing ? '' : ' (not executed: inside a false branch)';
    exec.step();
    let line = `${cur.stage} #${index}: ${shown}${skipped}`;
    if (exec.status === 'error') line += `  → error ${exec.error}`;
    if (exec.done) this.advanceStage();
    return line;
  }

  private breakpointHere(): boolean {
    const cur = this.current;
    return cur !== undefined && this.breakpoints.has(`${cur.stage}:${cur.execution.opcodeIndex}`);
  }

  /** Runs one command line; returns the lines to show. */
  execute(commandLine: string): string[] {
    const [cmd = '', arg] = commandLine.trim().split(/\s+/);
    switch (cmd) {
      case '':
        return [];
      case 'step':
      case 's':
      case 'n':
      case 'next': {
        const n = arg === undefined ? 1 : Number(arg);
        if (!Number.isInteger(n) || n < 1) return [`step takes a positive count, got "${arg}"`];
        const out: string[] = [];
        for (let i = 0; i < n; i++) {
          const line = this.stepOnce();
          if (line === undefined) break;
          out.push(line);
        }
        return [...out, ...this.where()];
      }
      case 'continue':
      case 'c': {
        let steps = 0;
        const out: string[] = [];
        do {
          const line = this.stepOnce();
          if (line === undefined) break;
          steps++;
          if (line.includes('→ error')) out.push(line);
        } while (!this.breakpointHere());
        const hit = this.breakpointHere() ? ' (breakpoint)' : '';
        return [`ran ${steps} instruction${steps === 1 ? '' : 's'}${hit}`, ...out, ...this.where()];
      }
      case 'break':
      case 'b':
      case 'delete': {
        const key = this.breakpointKey(arg);
        if (key === undefined) return [`${cmd} needs an instruction index or <stage>:<index>`];
        if (cmd === 'delete') {
          return [this.breakpoints.delete(key) ? `breakpoint ${key} removed` : `no breakpoint at ${key}`];
        }
        this.breakpoints.add(key);
        return [`breakpoint at ${key}`];
      }
      case 'stack':
      case 'p':
        return this.stacks();
      case 'info':
      case 'i':
        return this.where();
      case 'script':
        return this.scriptListing();
      case 'help':
      case 'h':
        return DEBUG_HELP;
      default:
        return [`unknown command "${cmd}" (try help)`];
    }
  }

  private breakpointKey(arg: string | undefined): string | undefined {
    if (arg === undefined) return undefined;
    const m = /^(?:([A-Za-z]+):)?([0-9]+)$/.exec(arg);
    if (m === null) return undefined;
    const stage = m[1] ?? this.current?.stage;
    return stage === undefined ? undefined : `${stage}:${Number(m[2])}`;
  }

  /** The opening lines: what is being debugged. */
  banner(): string[] {
    return [
      `tx ${txidHex(this.tx)} input ${this.inputIndex} of ${this.tx.inputs.length}`,
      `flags ${formatFlags(this.flags)}`,
      `spending ${this.prevouts[this.inputIndex]!.value} sat locked by ${bytesToHex(this.prevouts[this.inputIndex]!.script)}`,
      ...this.where(),
    ];
  }

  where(): string[] {
    if (this.finalResult !== undefined) {
      const r = this.finalResult;
      if (r.ok) return ['verification finished: OK'];
      const at = r.opcodeIndex === undefined ? '' : ` at instruction #${r.opcodeIndex}`;
      return [`verification finished: ${r.error} (${r.script}${at})`];
    }
    const cur = this.current!;
    const exec = cur.execution;
    const next = exec.nextInstruction;
    const shown =
      next === undefined
        ? '(end)'
        : next.opcode < 0
          ? '[unparsable]'
          : formatInstruction(next.opcode, next.data);
    return [`${cur.stage} #${exec.opcodeIndex} next: ${shown}   stack depth ${exec.stack.length}`];
  }

  stacks(): string[] {
    if (this.current === undefined) return this.where();
    const exec = this.current.execution;
    const show = (items: readonly Uint8Array[], where: 'stack' | 'altstack') =>
      items.length === 0
        ? ['  (empty)']
        : [...items].reverse().map((item, i) => {
            const label = this.labelOf?.(item, where, i);
            const hex = item.length === 0 ? '[]' : bytesToHex(item);
            return label === undefined ? `  ${i}: ${hex}` : `  ${i}: ${hex}  (${label})`;
          });
    const cond = exec.conditionStack;
    return [
      'stack (top first):',
      ...show(exec.stack, 'stack'),
      'altstack (top first):',
      ...show(exec.altstack, 'altstack'),
      `condition stack: ${cond.length === 0 ? '(empty)' : cond.map((c) => (c ? 'true' : 'false')).join(' ')}`,
    ];
  }

  private scriptListing(): string[] {
    if (this.current === undefined) return this.where();
    const exec = this.current.execution;
    const { ops, truncated } = decodeScript(exec.script.bytes);
    const lines: string[] = [`${this.current.stage}:`];
    ops.forEach((op, i) => {
      const marker = i === exec.opcodeIndex ? '->' : '  ';
      const bp = this.breakpoints.has(`${this.current?.stage}:${i}`) ? '*' : ' ';
      lines.push(`${marker}${bp}#${i} ${formatInstruction(op.opcode, op.data)}`);
    });
    if (truncated) lines.push(`   #${ops.length} [unparsable]`);
    return lines;
  }
}
