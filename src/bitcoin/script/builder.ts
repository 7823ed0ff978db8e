/**
 * A small builder for writing scripts in TypeScript:
 *
 *   const script = new ScriptBuilder().op(Op.OP_DUP).op(Op.OP_HASH160).push(hash).op(Op.OP_EQUALVERIFY).build();
 *
 * `push` writes the minimal push for data (OP_0 / OP_1..OP_16 / OP_1NEGATE where MINIMALDATA demands
 * it), `number` the minimal script-number push, `raw` inserts bytes verbatim.
 */
import { encodeNumberPush, encodePush } from './script.ts';

export class ScriptBuilder {
  // One growing buffer, not a part per opcode: a graph's disprove leaves are tens of thousands of
  // opcodes, and an array of one-byte parts made their rebuild at import mostly allocation.
  private buf = new Uint8Array(256);
  private length = 0;

  /** One or more opcodes. */
  op(...opcodes: number[]): this {
    this.reserve(opcodes.length);
    for (const o of opcodes) {
      if (!Number.isInteger(o) || o < 0 || o > 0xff) throw new RangeError(`opcode out of range: ${o}`);
      this.buf[this.length++] = o;
    }
    return this;
  }

  /** Pushes data with the push MINIMALDATA requires (Core's CheckMinimalPush). */
  push(data: Uint8Array): this {
    if (data.length === 0) return this.op(0x00);
    if (data.length === 1 && (data[0] as number) >= 1 && (data[0] as number) <= 16) {
      return this.op(0x50 + (data[0] as number));
    }
    if (data.length === 1 && data[0] === 0x81) return this.op(0x4f);
    return this.write(encodePush(data));
  }

  /** Pushes data with the smallest length prefix only (Core's `CScript << vector`, no OP_N). */
  pushData(data: Uint8Array): this {
    return this.write(encodePush(data));
  }

  /** Pushes a script number minimally (Core's `CScript << int64`). */
  number(n: number | bigint): this {
    return this.write(encodeNumberPush(n));
  }

  /** Inserts bytes verbatim (another script fragment), as they are now. */
  raw(bytes: Uint8Array): this {
    return this.write(bytes);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.length;
  }

  build(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private write(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }
}
