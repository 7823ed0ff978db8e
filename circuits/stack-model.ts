/**
 * A symbolic model of the stack for writing straight-line circuits: every item has an id, the model
 * knows where each id sits, so a generator names the values it wants (`pick`, `roll`) and the model
 * emits the cheapest instruction for the depth (OP_DUP / OP_OVER / OP_SWAP / OP_ROT, else
 * `<depth> OP_PICK | OP_ROLL`). It also tracks the largest stack + altstack size the script reaches,
 * which is exact for branch-free code (the generators here have no branches).
 */
import { ScriptBuilder } from '../src/bitcoin/script/builder.ts';
import { Op } from '../src/bitcoin/script/opcodes.ts';

export type ItemId = number;

/** A lookup table on the stack: entry v sits `v` below entry 0 (pushed from the last entry down). */
export type StackTable = { readonly entry0: ItemId; readonly size: number };

export class StackModel {
  readonly builder = new ScriptBuilder();
  private readonly items: ItemId[] = [];
  private readonly alt: ItemId[] = [];
  private nextId = 0;
  private peak = 0;

  /** Declares `count` items already on the stack when the script starts; ids bottom first. */
  inputs(count: number): ItemId[] {
    const ids: ItemId[] = [];
    for (let i = 0; i < count; i++) ids.push(this.fresh());
    this.items.push(...ids);
    this.note();
    return ids;
  }

  /** The largest stack + altstack size reached so far (the initial stack included). */
  get maxStack(): number {
    return this.peak;
  }

  get height(): number {
    return this.items.length;
  }

  get altHeight(): number {
    return this.alt.length;
  }

  /** Ids on the main stack, bottom first (a copy). */
  get stack(): ItemId[] {
    return this.items.slice();
  }

  depth(id: ItemId): number {
    const i = this.items.lastIndexOf(id);
    if (i < 0) throw new RangeError(`item ${id} is not on the stack`);
    return this.items.length - 1 - i;
  }

  top(): ItemId {
    const t = this.items[this.items.length - 1];
    if (t === undefined) throw new RangeError('empty stack');
    return t;
  }

  /** Pushes a number; returns its id. */
  number(n: number): ItemId {
    this.builder.number(n);
    return this.pushNew();
  }

  /** Copies `id` to the top; returns the copy's id. */
  pick(id: ItemId): ItemId {
    const d = this.depth(id);
    if (d === 0) this.builder.op(Op.OP_DUP);
    else if (d === 1) this.builder.op(Op.OP_OVER);
    else this.builder.number(d).op(Op.OP_PICK);
    return this.pushNew();
  }

  /** Moves `id` to the top (nothing when it is there already). */
  roll(id: ItemId): ItemId {
    const d = this.depth(id);
    if (d === 0) return id;
    if (d === 1) this.builder.op(Op.OP_SWAP);
    else if (d === 2) this.builder.op(Op.OP_ROT);
    else {
      this.builder.number(d).op(Op.OP_ROLL);
      this.note(1);
    }
    this.items.splice(this.items.length - 1 - d, 1);
    this.items.push(id);
    return id;
  }

  /** Brings `id` to the top, moving it when `consume`, copying it otherwise. */
  fetch(id: ItemId, consume: boolean): ItemId {
    return consume ? this.roll(id) : this.pick(id);
  }

  /**
   * An opcode that pops `pops` items and pushes `pushes` new ones (arithmetic, comparisons,
   * OP_PICK with a computed index counted as popping the index). Returns the new ids, bottom first.
   */
  op(opcode: number, pops: number, pushes: number): ItemId[] {
    if (this.items.length < pops) throw new RangeError(`opcode ${opcode} needs ${pops} items`);
    this.builder.op(opcode);
    this.items.length -= pops;
    const out: ItemId[] = [];
    for (let i = 0; i < pushes; i++) out.push(this.pushNew());
    return out;
  }

  /** OP_ADD of the top two; returns the sum's id. */
  add(): ItemId {
    return this.op(Op.OP_ADD, 2, 1)[0] as ItemId;
  }

  /**
   * Replaces the top value u with entry (u - offset) of `table`: `[<adj> OP_ADD] OP_PICK` where adj
   * makes the index the entry's depth. The caller knows the offset its value carries.
   */
  lookup(table: StackTable, offset: number): ItemId {
    // At OP_PICK the index is popped: entry 0 is then one shallower than it is now.
    const adj = this.depth(table.entry0) - 1 - offset;
    if (adj !== 0) {
      this.builder.number(adj).op(Op.OP_ADD);
      this.note(1);
    }
    return this.op(Op.OP_PICK, 1, 1)[0] as ItemId;
  }

  /** Pushes a table (entry v = values[v]) and returns it. */
  table(values: readonly number[]): StackTable {
    let entry0 = -1;
    for (let v = values.length - 1; v >= 0; v--) entry0 = this.number(values[v] as number);
    return { entry0, size: values.length };
  }

  toAlt(id: ItemId): void {
    this.roll(id);
    this.builder.op(Op.OP_TOALTSTACK);
    this.items.pop();
    this.alt.push(id);
  }

  fromAlt(): ItemId {
    const id = this.alt.pop();
    if (id === undefined) throw new RangeError('empty altstack');
    this.builder.op(Op.OP_FROMALTSTACK);
    this.items.push(id);
    return id;
  }

  /** Drops the top `count` items (OP_2DROP pairs, then OP_DROP). */
  dropTop(count: number): void {
    if (count > this.items.length) throw new RangeError('dropping more than the stack holds');
    for (let k = 0; k + 1 < count; k += 2) this.builder.op(Op.OP_2DROP);
    if (count % 2 === 1) this.builder.op(Op.OP_DROP);
    this.items.length -= count;
  }

  build(): Uint8Array {
    return this.builder.build();
  }

  private fresh(): ItemId {
    return this.nextId++;
  }

  private pushNew(): ItemId {
    const id = this.fresh();
    this.items.push(id);
    this.note();
    return id;
  }

  /** Records the size, plus `extra` items momentarily above the model (a pushed constant). */
  private note(extra = 0): void {
    const size = this.items.length + this.alt.length + extra;
    if (size > this.peak) this.peak = size;
  }
}
