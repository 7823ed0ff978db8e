/**
 * A small builder for writing scripts in TypeScript:
 *
 *   const script = new ScriptBuilder().op(Op.OP_DUP).op(Op.OP_HASH160).push(hash).op(Op.OP_EQUALVERIFY).build();
 *
 * `push` writes the minimal push for data (OP_0 / OP_1..OP_16 / OP_1NEGATE where MINIMALDATA demands
 * it), `number` the minimal script-number push, `raw` inserts bytes verbatim.
 */
import { concatBytes } from '../../core/bytes.ts';
import { encodeNumberPush, encodePush } from './script.ts';

export class ScriptBuilder {
  private readonly parts: Uint8Array[] = [];

  /** One or more opcodes. */
  op(...opcodes: number[]): this {
    for (const o of opcodes) {
      if (!Number.isInteger(o) || o < 0 || o > 0xff) throw new RangeError(`opcode out of range: ${o}`);
      this.parts.push(Uint8Array.of(o));
    }
    return this;
  }

  /** Pushes data with the push MINIMALDATA requires (Core's CheckMinimalPush). */
  push(data: Uint8Array): this {
    if (data.length === 0) this.parts.push(Uint8Array.of(0x00));
    else if (data.length === 1 && (data[0] as number) >= 1 && (data[0] as number) <= 16) {
      this.parts.push(Uint8Array.of(0x50 + (data[0] as number)));
    } else if (data.length === 1 && data[0] === 0x81) this.parts.push(Uint8Array.of(0x4f));
    else this.parts.push(encodePush(data));
    return this;
  }

  /** Pushes data with the smallest length prefix only (Core's `CScript << vector`, no OP_N). */
  pushData(data: Uint8Array): this {
    this.parts.push(encodePush(data));
    return this;
  }

  /** Pushes a script number minimally (Core's `CScript << int64`). */
  number(n: number | bigint): this {
    this.parts.push(encodeNumberPush(n));
    return this;
  }

  /** Inserts bytes verbatim (another script fragment). */
  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }

  build(): Uint8Array {
    return concatBytes(...this.parts);
  }
}
