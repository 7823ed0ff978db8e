/**
 * The step debugger of `vigil replay <bundle> --debug <tx>[:<input>]`: the `vigil tx debug` session on
 * one input of any transaction of a dispute bundle, with the prevouts the bundle recorded, and the
 * Winternitz digits and chain values on the stack labelled by the committed value they sign.
 *
 * The labels come from the bundle's graph document imported the way the watcher imports it (Vigil's
 * own parameters for the network, the step circuit of Vigil's registry the bundle names, the bundle's
 * operator, committee, governed window and commitment, the claim output the kick-off spends). A document
 * that does not import still leaves the session usable: it opens without labels and says why.
 */
import { STEP_CIRCUITS } from '../../circuits/index.ts';
import { type DebugReplIo, runDebugRepl } from '../bitcoin/debug-repl.ts';
import { STANDARD_FLAGS } from '../bitcoin/script/flags.ts';
import { ANNEX_TAG } from '../bitcoin/script/taproot.ts';
import type { VerifyScriptResult } from '../bitcoin/script/verify.ts';
import { type StackItemLabeller, TxDebugSession } from '../bitcoin/tx/debug-session.ts';
import { cloneTx, parseTx, txidHex } from '../bitcoin/tx/serialize.ts';
import type { Tx } from '../bitcoin/tx/types.ts';
import { VigilError, type VigilErrorCategory } from '../core/errors.ts';
import type { Graph } from '../dispute/graph/build.ts';
import { type GraphExpectations, importGraph } from '../dispute/graph/import.ts';
import { defaultGraphParameters } from '../dispute/graph/parameters.ts';
import type { BundleTx, BundleTxRole, DisputeBundleV2 } from './bundle.ts';
import { graphLeafValues, type WotsValueCheck, winternitzLabels } from './debug-labels.ts';

/** A `--debug` selector that names nothing debuggable in the bundle: a usage error (exit 2). */
export class BundleDebugSelectorError extends VigilError {
  override name = 'BundleDebugSelectorError';
  override readonly category: VigilErrorCategory = 'usage';
}

/** The shortest txid prefix a selector may use (shorter ones read as role names). */
export const MIN_TXID_PREFIX = 8;

/** Names a selector may use for a role besides the role itself (selectors are case-insensitive). */
const ROLE_ALIASES: Record<string, BundleTxRole> = {
  timeout: 'assert-timeout',
  asserttimeout: 'assert-timeout',
  'kick-off': 'kickoff',
};

const ROLES: readonly BundleTxRole[] = [
  'claim',
  'kickoff',
  'challenge',
  'take',
  'assert',
  'assert-timeout',
  'disprove',
  'payout',
  'funding',
  'other',
];

export type BundleTxSelection = {
  /** Index of the transaction in `bundle.transactions`. */
  index: number;
  entry: BundleTx;
  /** The input to debug. */
  input: number;
  /** How the transaction is named in messages: its role, numbered when the bundle has several. */
  name: string;
};

function listing(bundle: DisputeBundleV2): string[] {
  if (bundle.transactions.length === 0) return ['The bundle holds no transactions.'];
  return ['The bundle holds:', ...bundle.transactions.map((t, i) => `  ${nameOf(bundle, i)}  ${t.txid}`)];
}

/** `disprove` when the bundle has one disprove, `disprove#2` for the second of several. */
function nameOf(bundle: DisputeBundleV2, index: number): string {
  const role = bundle.transactions[index]?.role;
  const same = bundle.transactions.filter((t) => t.role === role);
  if (same.length <= 1) return String(role);
  const n = bundle.transactions.slice(0, index + 1).filter((t) => t.role === role).length;
  return `${role}#${n}`;
}

function noSuchTx(bundle: DisputeBundleV2, what: string): never {
  throw new BundleDebugSelectorError(`No transaction ${what} in the bundle`, {
    metaMessages: [
      ...listing(bundle),
      `Select one as <role>[#n], <txid> or a txid prefix of at least ${MIN_TXID_PREFIX} hex digits, then :<input> (default 0).`,
    ],
  });
}

/**
 * Resolves `<tx>[:<input>]`: `<tx>` is a role (`kickoff`, `disprove`, `timeout`…; the first of that
 * role, `disprove#2` for the second), a full txid, or a unique txid prefix of at least 8 hex digits.
 */
export function selectBundleTx(bundle: DisputeBundleV2, selector: string): BundleTxSelection {
  const m = /^([^:]*)(?::(.*))?$/.exec(selector.trim());
  const txPart = m?.[1] ?? '';
  const inputPart = m?.[2];
  if (txPart === '') noSuchTx(bundle, `"${selector}" (the selector names none)`);
  let input = 0;
  if (inputPart !== undefined) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(inputPart)) {
      throw new BundleDebugSelectorError(
        `The input in "${selector}" is not an input number: "${inputPart}"`,
        { metaMessages: ['Write <tx>:<n>, n counting from 0.'] },
      );
    }
    input = Number(inputPart);
  }
  const index = findTx(bundle, txPart);
  const entry = bundle.transactions[index] as BundleTx;
  return { index, entry, input, name: nameOf(bundle, index) };
}

function findTx(bundle: DisputeBundleV2, txPart: string): number {
  const txs = bundle.transactions;
  const lower = txPart.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(lower)) {
    const at = txs.findIndex((t) => t.txid.toLowerCase() === lower);
    return at >= 0 ? at : noSuchTx(bundle, `with txid ${lower}`);
  }
  if (new RegExp(`^[0-9a-f]{${MIN_TXID_PREFIX},63}$`).test(lower)) {
    const hits = txs.flatMap((t, i) => (t.txid.toLowerCase().startsWith(lower) ? [i] : []));
    if (hits.length === 1) return hits[0] as number;
    if (hits.length === 0) noSuchTx(bundle, `whose txid starts with ${lower}`);
    throw new BundleDebugSelectorError(
      `The txid prefix ${lower} matches ${hits.length} transactions of the bundle`,
      {
        metaMessages: [
          ...hits.map((i) => `  ${nameOf(bundle, i)}  ${txs[i]?.txid}`),
          'Give more hex digits, the full txid, or <role>#n.',
        ],
      },
    );
  }
  const r = /^([A-Za-z-]+)(?:#([1-9][0-9]{0,5}))?$/.exec(txPart);
  const word = r?.[1]?.toLowerCase();
  const role = word === undefined ? undefined : (ROLE_ALIASES[word] ?? word);
  if (r === null || role === undefined || !(ROLES as readonly string[]).includes(role)) {
    noSuchTx(bundle, `"${txPart}"`);
  }
  const ofRole = txs.flatMap((t, i) => (t.role === role ? [i] : []));
  const n = r[2] === undefined ? 1 : Number(r[2]);
  const at = ofRole[n - 1];
  if (at === undefined) {
    noSuchTx(
      bundle,
      ofRole.length === 0 ? `of role ${role}` : `${role}#${n} (it has ${ofRole.length} of role ${role})`,
    );
  }
  return at;
}

/** The bundle's graph as the watcher would import it, or why it does not import. */
function importBundleGraph(bundle: DisputeBundleV2): { graph: Graph } | { refused: string } {
  const e = bundle.graph.expectations;
  const kickoffTxid = bundle.kickoffTxid.toLowerCase();
  const kickoff = bundle.transactions.find(
    (t) => t.role === 'kickoff' && t.txid.toLowerCase() === kickoffTxid,
  );
  const claimPrevout = kickoff?.prevouts[0];
  const circuit = STEP_CIRCUITS.find((c) => c.id === e.circuit);
  if (circuit === undefined) return { refused: `step circuit ${e.circuit} is not one this Vigil knows` };
  const expect: GraphExpectations = {
    network: e.network,
    params: defaultGraphParameters[e.network],
    circuit,
    operator: e.operator,
    committee: e.committee,
    epoch: bundle.epoch,
    ...(e.governedChallengeWindow === undefined
      ? {}
      : { governedChallengeWindow: e.governedChallengeWindow }),
    ...(e.commitment === undefined ? {} : { commitment: e.commitment }),
    ...(claimPrevout === undefined ? {} : { claimPrevout }),
  };
  try {
    return { graph: importGraph(bundle.graph.document, expect).graph };
  } catch (err) {
    if (err instanceof VigilError) return { refused: err.shortMessage };
    throw err;
  }
}

/** The tapscript a witness spends through, when it is a script-path spend. */
function tapscriptOf(
  witness: readonly Uint8Array[],
): { script: Uint8Array; stack: Uint8Array[] } | undefined {
  let items = witness.slice();
  const last = items[items.length - 1];
  if (items.length >= 2 && last !== undefined && last.length > 0 && last[0] === ANNEX_TAG)
    items = items.slice(0, -1);
  if (items.length < 2) return undefined;
  return { script: items[items.length - 2] as Uint8Array, stack: items.slice(0, -2) };
}

function isP2tr(script: Uint8Array): boolean {
  return script.length === 34 && script[0] === 0x51 && script[1] === 0x20;
}

function labelSummary(leaf: string, values: WotsValueCheck[]): string[] {
  if (values.length === 0) return [`labels: ${leaf}, no Winternitz-signed values`];
  return [
    `labels: ${leaf}, Winternitz-signed ${values.map((v) => v.name).join(', ')}`,
    ...values
      .filter((v) => v.verified < v.digits)
      .map(
        (v) =>
          `  ${v.name}: ${v.digits - v.verified} of ${v.digits} digits do not verify against the graph's key; those items stay unlabelled`,
      ),
  ];
}

export type BundleDebugSession = {
  session: TxDebugSession;
  selection: BundleTxSelection;
  /** What is debugged and how the stack is labelled, then the session's own banner. */
  banner: () => string[];
};

export type OpenBundleDebugOptions = {
  /** Verification flags (default: every consensus and standard flag, as `vigil tx debug`). */
  flags?: number;
};

/**
 * Opens the debugger on `selector` (`<tx>[:<input>]`, see `selectBundleTx`) with the transaction's
 * recorded prevouts. Throws BundleDebugSelectorError for a selector naming nothing, an input out of
 * range, a transaction whose prevouts the bundle lacks or whose raw bytes do not decode.
 */
export function openBundleDebugSession(
  bundle: DisputeBundleV2,
  selector: string,
  options: OpenBundleDebugOptions = {},
): BundleDebugSession {
  const selection = selectBundleTx(bundle, selector);
  const { entry, input, name } = selection;
  let decoded: Tx;
  try {
    decoded = parseTx(entry.raw);
  } catch (err) {
    throw new BundleDebugSelectorError(`The bundle's ${name} ${entry.txid} does not decode`, { cause: err });
  }
  if (txidHex(decoded) !== entry.txid.toLowerCase()) {
    throw new BundleDebugSelectorError(
      `The bundle's ${name} is recorded as ${entry.txid} but its bytes are transaction ${txidHex(decoded)}`,
    );
  }
  const inputs = decoded.inputs.length;
  if (input >= inputs) {
    throw new BundleDebugSelectorError(
      `${name} ${entry.txid} has no input ${input} (it has ${inputs} input${inputs === 1 ? '' : 's'}, 0 to ${inputs - 1})`,
    );
  }
  if (entry.prevouts.length !== inputs) {
    throw new BundleDebugSelectorError(
      `The bundle lacks the prevouts of ${name} ${entry.txid}: ${entry.prevouts.length} recorded for ${inputs} inputs`,
      {
        metaMessages: ['Every input needs the output it spends (taproot signatures commit to all of them).'],
      },
    );
  }
  // A private copy: every witness item its own object (the decoder shares one empty array between
  // empty items), so labels by identity name exactly one witness position.
  const tx = cloneTx(decoded);
  const prevouts = entry.prevouts.map((p) => ({ value: p.value, script: p.script }));
  const notes: string[] = [`bundle: ${name} ${entry.txid}, input ${input} of ${inputs}`];
  let labelOf: StackItemLabeller | undefined;
  const spend = isP2tr(prevouts[input]!.script) ? tapscriptOf(tx.inputs[input]!.witness) : undefined;
  if (spend === undefined) {
    notes.push('labels: none (not a taproot script-path spend)');
  } else {
    const imported = importBundleGraph(bundle);
    if ('refused' in imported) {
      notes.push(`labels: none (the bundle's graph document does not import: ${imported.refused})`);
    } else {
      const leaf = graphLeafValues(imported.graph, spend.script);
      if (leaf === undefined) notes.push('labels: none (the script is no leaf of the bundle’s graph)');
      else {
        const labels = winternitzLabels(spend.stack, leaf.values);
        labelOf = labels.labelOf;
        notes.push(...labelSummary(leaf.leaf, labels.values));
      }
    }
  }
  const session = new TxDebugSession(tx, prevouts, input, options.flags ?? STANDARD_FLAGS, {
    ...(labelOf === undefined ? {} : { labelOf }),
  });
  return { session, selection, banner: () => [...notes, ...session.banner()] };
}

export type BundleDebugIo = DebugReplIo & { options?: OpenBundleDebugOptions };

/**
 * The whole `--debug` session as `vigil tx debug` runs it: the banner, then one command per line from
 * `io.input` until `quit` or the end of input. Returns the verdict (undefined when the session ended
 * before verification finished); the CLI maps it to an exit code.
 */
export async function runBundleDebug(
  bundle: DisputeBundleV2,
  selector: string,
  io: BundleDebugIo,
): Promise<VerifyScriptResult | undefined> {
  const { session, banner } = openBundleDebugSession(bundle, selector, io.options);
  return runDebugRepl(session, banner(), io);
}
