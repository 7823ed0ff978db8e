/**
 * A dispute bundle, format version 2: everything needed to replay one dispute offline with nothing else
 * running. It carries the governance history the epoch's root is computed from (genesis and every
 * input since genesis, in L2 order, with where the epoch starts), the operator's two commitments (on the
 * L2 and, through the graph, in the Bitcoin kick-off), the operator's graph document with what import
 * checks it against, every Bitcoin transaction of the dispute with its confirmation and the outputs it
 * spends, and, when Vigil's records were the source, what the watcher decided at the time.
 *
 * Two sources write it: `vigil disputes export` (Vigil's records plus the chains, `source: 'records'`)
 * and `vigil replay fetch` (the chains alone, `source: 'chains'`). `vigil replay` reads either, and
 * `bundle-codec.ts` is the only code that turns one into JSON or back.
 *
 * Types here are the in-memory form: amounts and heights of the L2 as bigint, bytes as Uint8Array,
 * Bitcoin txids and block hashes as display-order hex (identifiers, as the backends give them).
 */
import type { BitcoinNetwork } from '../bitcoin/network.ts';
import type { GenesisOptions, GovernanceInput } from '../governance/index.ts';

export const BUNDLE_FORMAT = 'vigil-dispute-bundle';
export const BUNDLE_VERSION = 2;

/** What a transaction is in the dispute (the graph's name for it, or the challenger's). */
export type BundleTxRole =
  | 'claim'
  | 'kickoff'
  | 'challenge'
  | 'take'
  | 'assert'
  | 'assert-timeout'
  | 'disprove'
  | 'payout'
  | 'funding'
  | 'other';

export type BundleConfirmation = { height: number; blockHash: string };

/** One output a transaction spends: what the interpreter needs to verify the spend. */
export type BundlePrevout = { value: bigint; script: Uint8Array };

export type BundleTx = {
  role: BundleTxRole;
  txid: string;
  raw: Uint8Array;
  /** Undefined when the transaction was not in a block when the bundle was written. */
  confirmation: BundleConfirmation | undefined;
  /** The outputs its inputs spend, in input order. */
  prevouts: BundlePrevout[];
};

/** The operator's commitment of the epoch on the L2 (the state root and where it was committed). */
export type BundleL2Commitment = {
  stateRoot: Uint8Array;
  block: bigint;
  /** The L2 transaction that committed it, when known. */
  txHash: string | undefined;
  /** The kick-off txid the commitment names, when it names one. */
  kickoffTxid: string | undefined;
};

/** What the graph is imported against: the keys and values the L2 and the network fix, not the document. */
export type BundleGraphExpectations = {
  network: BitcoinNetwork;
  /** The step circuit the graph's disprove leaves run (an id of circuits/index.ts). */
  circuit: string;
  operator: Uint8Array;
  committee: Uint8Array[];
  /** The governed challenge window in force during the epoch (blocks), when the model knew it. */
  governedChallengeWindow: number | undefined;
  /** The graph document hash the operator committed on the L2, when it committed one. */
  commitment: Uint8Array | undefined;
};

/** What the watcher decided at the time, from its dispute record (absent in a bundle fetched from the chains). */
export type BundleWatcherRecord = {
  disputeId: string;
  state: string;
  outcome: string | undefined;
  kickoffHeight: number;
  /** The verdict as the watcher recorded it (its JSON). */
  verdict: { outcome: string; equivocation: boolean; reasons: { code: string; message: string }[] };
  /** Where the watcher located the fraud, when it did (fault, rule, step within the epoch, global step). */
  diagnosis:
    | { fault: string; rule: string; step: number; globalStep: number; inputKind: string }
    | { fault: undefined; reason: string }
    | undefined;
  /** Vigil's trace roots r_0 … r_k as opened. */
  expectedTrace: Uint8Array[];
  /** The step Vigil's disprove disproved, when there was one. */
  disprovedStep: number | undefined;
  /** The dispute's event history as recorded (JSON form of each event, in order). */
  history: Record<string, unknown>[];
};

export type DisputeBundleV2 = {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  source: 'records' | 'chains';
  epoch: bigint;
  governance: {
    genesis: GenesisOptions;
    /** Every input since genesis through the epoch's endEpoch, in L2 order (overruled inputs left out). */
    inputs: GovernanceInput[];
    /** Index in `inputs` of the epoch's first input. */
    epochStart: number;
  };
  l2: {
    chainId: number | undefined;
    /** The L2 block of the epoch's end and its hash (0x-hex). */
    epochEndBlock: bigint;
    epochEndBlockHash: string;
    commitment: BundleL2Commitment | undefined;
  };
  graph: {
    /** The operator's graph document as published (JSON value). */
    document: unknown;
    expectations: BundleGraphExpectations;
  };
  /** The kick-off's txid (its transaction is among `transactions`, role 'kickoff'). */
  kickoffTxid: string;
  /** Every Bitcoin transaction of the dispute, in the order they were found (parents before children). */
  transactions: BundleTx[];
  watcher: BundleWatcherRecord | undefined;
};
