/**
 * Labels for the step debugger: which stack items are the Winternitz digits and hash-chain values of
 * which committed value (`stateRoot digit 5`, `stateRoot chain 5 (+3)`, `epoch checksum 1`).
 *
 * A label is shown as fact, so it is given only where it is certain:
 * - A digit item is labelled by identity (the very Uint8Array the witness holds: the interpreter moves,
 *   duplicates and picks items without copying them, so the label follows the item through
 *   TOALTSTACK/FROMALTSTACK/PICK/ROLL/DUP), and only when its chain value hashed 15 − d times gives the
 *   graph's public-key hash for that digit: an item that does not verify is left unlabelled.
 * - A 20-byte item is labelled by value: every hash160 step of each verified chain value is precomputed,
 *   so an intermediate chain value the script computes is named wherever it appears.
 * A value or object that two labels would claim (which verified signatures cannot produce) is left
 * unlabelled rather than named wrongly.
 */

import { decodeScriptNumOrNaN } from '../bitcoin/script/num.ts';
import type { StackItemLabeller } from '../bitcoin/tx/debug-session.ts';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { hash160 } from '../core/hashes.ts';
import { type Graph, Leaf } from '../dispute/graph/build.ts';
import { hashChain, type WotsPublicKey } from '../dispute/winternitz/keys.ts';
import { WOTS_HASH_BYTES, WOTS_MAX_DIGIT, wotsParameters } from '../dispute/winternitz/parameters.ts';

/** One Winternitz-signed value a script verifies: its name (`stateRoot`, `trace[1]`) and its key. */
export type WotsValueRef = { name: string; key: WotsPublicKey };

/** How one value's witness items fared against its key. */
export type WotsValueCheck = {
  name: string;
  /** Digits (chains) of the value: message digits then checksum digits. */
  digits: number;
  /** Digits whose item and chain value verify against the key (these are labelled). */
  verified: number;
};

export type WinternitzLabels = {
  labelOf: StackItemLabeller;
  values: WotsValueCheck[];
};

/** Placeholder for a key two labels claimed: such an item gets no label. */
const AMBIGUOUS = Symbol('ambiguous');

function put<K>(map: Map<K, string | typeof AMBIGUOUS>, key: K, label: string): void {
  const had = map.get(key);
  if (had === undefined) map.set(key, label);
  else if (had !== label) map.set(key, AMBIGUOUS);
}

/** The digit an item stands for as the script reads it (a script number 0..15), or undefined. */
function digitOf(item: Uint8Array): number | undefined {
  // Consensus admits non-minimal digits (`00`); the script reads them numerically, so do we.
  const d = decodeScriptNumOrNaN(item, false, 4);
  return Number.isInteger(d) && d >= 0 && d <= WOTS_MAX_DIGIT ? d : undefined;
}

/**
 * Labels for a script stack whose bottom items are the Winternitz witnesses of `values`, in order
 * (each value: chain value, digit, chain value, digit, …, as `encodeWotsWitness` lays them out). Items
 * past the values (signatures) are not labelled.
 */
export function winternitzLabels(
  stack: readonly Uint8Array[],
  values: readonly WotsValueRef[],
): WinternitzLabels {
  const byItem = new Map<Uint8Array, string | typeof AMBIGUOUS>();
  const byValue = new Map<string, string | typeof AMBIGUOUS>();
  const checks: WotsValueCheck[] = [];
  let at = 0;
  for (const v of values) {
    const params = wotsParameters(v.key.messageBytes);
    let verified = 0;
    for (let i = 0; i < params.totalDigits; i++, at += 2) {
      const chain = stack[at];
      const digitItem = stack[at + 1];
      const pk = v.key.hashes[i];
      if (chain === undefined || digitItem === undefined || pk === undefined) continue;
      const d = digitOf(digitItem);
      if (d === undefined || chain.length !== WOTS_HASH_BYTES) continue;
      if (!equalBytes(hashChain(chain, WOTS_MAX_DIGIT - d), pk)) continue;
      verified++;
      const checksum = i >= params.messageDigits;
      const j = checksum ? i - params.messageDigits : i;
      put(byItem, digitItem, checksum ? `${v.name} checksum ${j}` : `${v.name} digit ${i}`);
      const chainName = checksum ? `${v.name} checksum chain ${j}` : `${v.name} chain ${i}`;
      // The script hashes every chain value 15 times whatever its digit; name each step.
      let h = chain;
      for (let k = 0; k <= WOTS_MAX_DIGIT; k++) {
        const step = k === 0 ? chainName : `${chainName} (+${k})`;
        put(byValue, bytesToHex(h), d + k === WOTS_MAX_DIGIT ? `${step} = public key` : step);
        h = hash160(h);
      }
    }
    checks.push({ name: v.name, digits: params.totalDigits, verified });
  }
  const labelOf: StackItemLabeller = (item) => {
    const own = byItem.get(item);
    if (own !== undefined) return own === AMBIGUOUS ? undefined : own;
    if (item.length !== WOTS_HASH_BYTES) return undefined;
    const byHex = byValue.get(bytesToHex(item));
    return byHex === undefined || byHex === AMBIGUOUS ? undefined : byHex;
  };
  return { labelOf, values: checks };
}

/** Which leaf of the graph a tapscript is, and the values it verifies (witness order). */
export type GraphLeafValues = { leaf: string; values: WotsValueRef[] };

/**
 * The committed values the graph leaf `script` verifies, in the order its witness lists them
 * (src/dispute/graph/scripts.ts): the kick-off leaf epoch, stateRoot, l2BlockHash; the assert leaf the
 * trace roots; disprove leaf i the pre root trace[i] and the post root trace[i+1] (stateRoot for the
 * last step). A covenant leaf verifies none. Undefined when the script is no leaf of this graph.
 */
export function graphLeafValues(graph: Graph, script: Uint8Array): GraphLeafValues | undefined {
  const w = graph.spec.wots;
  const o = graph.outputs;
  const is = (leafScript: Uint8Array | undefined) =>
    leafScript !== undefined && equalBytes(leafScript, script);
  if (is(o.claim.leaves[Leaf.claim.kickoff]?.script)) {
    return {
      leaf: 'kick-off leaf',
      values: [
        { name: 'epoch', key: w.epoch },
        { name: 'stateRoot', key: w.stateRoot },
        { name: 'l2BlockHash', key: w.l2BlockHash },
      ],
    };
  }
  const trace = (i: number): WotsValueRef =>
    i < w.trace.length
      ? { name: `trace[${i}]`, key: w.trace[i] as WotsPublicKey }
      : { name: 'stateRoot', key: w.stateRoot };
  if (is(o.assertConnector.leaves[Leaf.assertConnector.assert]?.script)) {
    return { leaf: 'assert leaf', values: w.trace.map((_, i) => trace(i)) };
  }
  for (let i = 0; i < w.trace.length; i++) {
    if (is(o.asserted.leaves[i]?.script)) {
      return { leaf: `disprove leaf of step ${i}`, values: [trace(i), trace(i + 1)] };
    }
  }
  const outputs = [o.claim, o.challengeConnector, o.assertConnector, o.stake, o.asserted];
  if (outputs.some((out) => out.leaves.some((l) => is(l.script))))
    return { leaf: 'covenant leaf', values: [] };
  return undefined;
}
