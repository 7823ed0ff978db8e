/**
 * ASM text ↔ script bytes.
 *
 * `scriptToAsm` is Core's ScriptToAsmStr (pushes of ≤ 4 bytes shown as numbers, longer ones as hex,
 * opcodes by GetOpName, `[error]` where parsing fails). `asmToScript` is Core's ParseScript, the
 * mini-language of script_tests.json: decimal numbers become minimal number pushes, `0x..` tokens are
 * raw bytes inserted verbatim, `'text'` is pushed as data, opcodes are named with or without `OP_`.
 */
import { bytesToHex, concatBytes, hexToBytes, utf8 } from '../../core/bytes.ts';
import { VigilError } from '../../core/errors.ts';
import { decodeScriptNumOrNaN } from './num.ts';
import { Op, opcodeByName, opcodeName } from './opcodes.ts';
import { encodeNumberPush, encodePush, parseScript } from './script.ts';

export class AsmParseError extends VigilError {
  override name = 'AsmParseError';
  readonly token: string;
  constructor(token: string, reason: string, source: string) {
    super(`Cannot assemble script: ${reason} at "${token}"`, {
      metaMessages: [`Script: ${source.length > 120 ? `${source.slice(0, 120)}…` : source}`],
    });
    this.token = token;
  }
}

const DECIMAL = /^-?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const MAX_ABS = 0xffffffff;

/** Assembles Core's script_tests notation into bytes. Throws AsmParseError on an unknown token. */
export function asmToScript(text: string): Uint8Array {
  const parts: Uint8Array[] = [];
  const tokens = text.split(/[ \t\n\r]+/).filter((t) => t.length > 0);
  for (const token of tokens) {
    if (DECIMAL.test(token)) {
      const n = Number(token);
      if (!Number.isSafeInteger(n) || n > MAX_ABS || n < -MAX_ABS) {
        throw new AsmParseError(token, 'decimal value out of range (±0xffffffff)', text);
      }
      parts.push(encodeNumberPush(n));
    } else if (HEX.test(token)) {
      // Raw bytes, inserted as they are (not a push).
      if ((token.length - 2) % 2 !== 0) throw new AsmParseError(token, 'odd number of hex digits', text);
      parts.push(hexToBytes(token.slice(2)));
    } else if (token.length >= 2 && token.startsWith("'") && token.endsWith("'")) {
      parts.push(encodePush(utf8(token.slice(1, -1))));
    } else {
      const code = opcodeByName(token);
      if (code === undefined) throw new AsmParseError(token, 'unknown opcode', text);
      parts.push(Uint8Array.of(code));
    }
  }
  return concatBytes(...parts);
}

/** Core's ScriptToAsmStr (without sighash decoding). */
export function scriptToAsm(script: Uint8Array): string {
  const p = parseScript(script);
  const words: string[] = [];
  for (let i = 0; i < p.count; i++) {
    const opcode = p.opcodes[i] as number;
    const data = p.pushData(i);
    if (data !== undefined) {
      words.push(data.length <= 4 ? String(decodeScriptNumOrNaN(data, false, 4)) : bytesToHex(data));
    } else {
      words.push(opcodeName(opcode));
    }
  }
  if (p.truncated) words.push('[error]');
  return words.join(' ');
}

/**
 * A debugger-friendly rendering of one instruction: `OP_DUP`, `OP_1`, `<0x...>` for pushes with the
 * opcode when it is not the plain direct push (`OP_PUSHDATA1 <0x..>`).
 */
export function formatInstruction(opcode: number, data: Uint8Array | undefined): string {
  if (data === undefined) {
    if (opcode === Op.OP_1NEGATE) return 'OP_1NEGATE';
    if (opcode >= Op.OP_1 && opcode <= Op.OP_16) return `OP_${opcode - Op.OP_1 + 1}`;
    return opcodeName(opcode);
  }
  if (opcode === Op.OP_0) return 'OP_0';
  const hex = `<0x${bytesToHex(data)}>`;
  return opcode < Op.OP_PUSHDATA1 ? hex : `${opcodeName(opcode)} ${hex}`;
}
