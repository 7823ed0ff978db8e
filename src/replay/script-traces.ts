/**
 * Every input of every transaction of a bundle, executed opcode by opcode in the interpreter against its
 * prevout, as lines the HTML report shows collapsed under the input: the stage, the instruction, whether
 * it ran, the top of the stack after it, and where execution stopped with which error. A long leaf is
 * cut after `MAX_TRACE_LINES_PER_INPUT` lines (and the failing instruction, if any, still shown), so a
 * report stays readable and small.
 */
import { formatInstruction } from '../bitcoin/script/asm.ts';
import { CONSENSUS_FLAGS } from '../bitcoin/script/flags.ts';
import { verifyScriptStages } from '../bitcoin/script/verify.ts';
import { TransactionSignatureChecker } from '../bitcoin/tx/checker.ts';
import { PrecomputedTxData } from '../bitcoin/tx/precomputed.ts';
import { parseTx } from '../bitcoin/tx/serialize.ts';
import type { TxInput } from '../bitcoin/tx/types.ts';
import { bytesToHex } from '../core/bytes.ts';
import type { BundlePrevout, DisputeBundleV2 } from './bundle.ts';
import {
  MAX_TRACE_LINES_PER_INPUT,
  MAX_TRACE_LINES_PER_REPORT,
  type ScriptTrace,
  type ScriptTraceLine,
} from './report/render.ts';

/** Stack items kept per line (the top ones), each cut to this many hex digits. */
const STACK_ITEMS = 6;
const ITEM_HEX = 40;

const short = (item: Uint8Array): string => {
  const h = bytesToHex(item);
  return h.length > ITEM_HEX ? `${h.slice(0, ITEM_HEX)}…` : h;
};

function traceInput(
  input: TxInput,
  prevout: BundlePrevout,
  checker: TransactionSignatureChecker,
  maxLines: number,
): ScriptTraceLine[] {
  const lines: ScriptTraceLine[] = [];
  const stages = verifyScriptStages(input.scriptSig, prevout.script, input.witness, CONSENSUS_FLAGS, checker);
  for (let next = stages.next(); !next.done; next = stages.next()) {
    const { stage, execution } = next.value;
    while (!execution.done) {
      const ins = execution.nextInstruction;
      const index = execution.opcodeIndex;
      const executed = execution.executing;
      execution.step();
      if (ins === undefined) break;
      const failed = execution.error !== undefined && execution.error !== 'OK';
      if (lines.length < maxLines || failed) {
        lines.push({
          stage,
          index,
          instruction: ins.opcode < 0 ? '(unparsable tail)' : formatInstruction(ins.opcode, ins.data),
          executed,
          stack: execution.stack.slice(-STACK_ITEMS).map(short),
          ...(failed ? { error: execution.error } : {}),
        });
      }
    }
  }
  return lines;
}

/**
 * The opcode-by-opcode execution of every input of the bundle's transactions, keeping at most
 * `budget` lines in all (the report shows no more) and, past it, only the line where an input failed.
 * `skip` names transactions not to run at all (the replay's work budget refused them).
 */
export function scriptTracesOf(
  b: DisputeBundleV2,
  o: { skip?: ReadonlySet<string>; budget?: number; perInput?: number } = {},
): ScriptTrace[] {
  const out: ScriptTrace[] = [];
  let left = o.budget ?? MAX_TRACE_LINES_PER_REPORT;
  const perInput = o.perInput ?? MAX_TRACE_LINES_PER_INPUT;
  for (const t of b.transactions) {
    if (o.skip?.has(t.txid)) continue;
    const tx = parseTx(t.raw);
    const precomputed = new PrecomputedTxData(tx, t.prevouts);
    tx.inputs.forEach((input, index) => {
      const prevout = t.prevouts[index];
      if (prevout === undefined) return;
      const checker = new TransactionSignatureChecker(tx, index, prevout.value, { precomputed });
      const lines = traceInput(input, prevout, checker, Math.min(perInput, left));
      left = Math.max(0, left - lines.length);
      out.push({ txid: t.txid, input: index, lines });
    });
  }
  return out;
}
