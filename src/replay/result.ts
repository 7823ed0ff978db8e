/**
 * What `vigil replay <bundle>` finds: the verdict recomputed offline, the roots and checkpoints it rests
 * on, the first divergent step and the rule behind it, every transaction re-verified against its
 * prevouts, the graph re-imported, and whether all of it agrees with what the watcher decided at the
 * time. Plain data with hex strings and decimal strings only, so that `--json` is byte-for-byte stable
 * and the HTML report renders it without knowing any domain type.
 */

/** One step of the epoch's trace as the reference runs it and as the operator's claim implies it. */
export type ReplayStep = {
  /** Index within the epoch's inputs. */
  index: number;
  kind: string;
  /** The input's L2 position (decimal block). */
  block: string;
  txIndex: number;
  logIndex: number;
  /** The rules the reference evaluated on this step. */
  rules: string[];
  expectedRoot: string;
  expectedAccepted: boolean;
  /** The root after this step under the executor that reproduces the claim; undefined when none does. */
  claimedRoot: string | undefined;
  claimedAccepted: boolean | undefined;
};

/** Where the operator's claim departs from the reference, when a catalogue fault reproduces the claim. */
export type ReplayDivergence =
  | {
      found: true;
      fault: string;
      rule: string;
      /** Index within the epoch's inputs, and since genesis. */
      step: number;
      globalStep: number;
      inputKind: string;
      expectedRoot: string;
      claimedRoot: string;
      /** The state leaves that differ after the step (at most 64), and how many differ in all. */
      leaves: { id: string; kind: string; expected: string | undefined; claimed: string | undefined }[];
      leavesTotal: number;
    }
  | { found: false; reason: string };

/** One input of one transaction, run in the interpreter against its prevout. */
export type ReplayInputCheck = {
  index: number;
  ok: boolean;
  /** The interpreter's error name when it fails. */
  error: string | undefined;
  /** For a script-path spend, the leaf's script (hex) and its size in bytes. */
  leafBytes: number | undefined;
};

export type ReplayTxCheck = {
  role: string;
  txid: string;
  height: number | undefined;
  blockHash: string | undefined;
  weight: number;
  /** Every input verifies and the transaction fits the rest of the bundle (`problems` is empty). */
  ok: boolean;
  inputs: ReplayInputCheck[];
  /**
   * Where the transaction contradicts the rest of the bundle or Bitcoin's rules beyond scripts: a prevout
   * that is not its parent's output, a parent confirmed after it, a relative or absolute timelock its
   * height does not meet, more value out than in, a role the graph does not give it, or more work than
   * a replay does.
   */
  problems: string[];
  /** Inputs whose parent is not in the bundle: their prevouts are the bundle writer's word. */
  externalInputs: number;
};

export type ReplayAgreement =
  | { compared: false; reason: string }
  | {
      compared: true;
      agrees: boolean;
      differences: string[];
      /** What the record lacks, so could not be compared (never counted as agreement silently). */
      notRecorded: string[];
    };

export type ReplayResult = {
  epoch: string;
  source: 'records' | 'chains';
  /** The verdict recomputed from the bundle alone. */
  verdict: {
    outcome: 'valid' | 'fraud' | 'unavailable';
    challengeable: boolean;
    equivocation: boolean;
    reasons: { code: string; message: string }[];
  };
  roots: {
    /** Vigil's root for the epoch (0x-hex). */
    vigil: string;
    /** The root Winternitz-signed in the kick-off, when it could be read. */
    kickoff: string | undefined;
    /** The operator's L2 commitment, when it committed. */
    l2Commitment: string | undefined;
  };
  checkpoints: {
    /** r_0 … r_k recomputed. */
    expected: string[];
    /** The first checkpoint the watcher's recorded trace disagrees on; undefined when all agree or none was recorded. */
    firstRecordedMismatch: number | undefined;
    /** The operator's r_0 … r_k as its assert and kick-off sign them, when it asserted. */
    asserted: string[] | undefined;
    /** The trace step a disprove targets (Vigil's plan against the asserted trace), when there is one. */
    disproveStep: number | undefined;
    /** Why no step can be disproved, when the operator asserted and none can. */
    disproveImpossible: string | undefined;
  };
  divergence: ReplayDivergence;
  /** The epoch's steps; the report draws its trace diff from them. */
  steps: ReplayStep[];
  graph: { imported: boolean; error: string | undefined; hash: string | undefined };
  transactions: ReplayTxCheck[];
  /** Where the bundle contradicts itself outside any one transaction (epoch boundaries, the claim). */
  consistency: string[];
  /** Every transaction verified and consistent, the graph imported, and `consistency` empty. */
  chainChecksOk: boolean;
  agreement: ReplayAgreement;
  /** The dispute's timeline for the report: both chains' heights of each event. */
  timeline: {
    l2: { epochEndBlock: string; commitmentBlock: string | undefined };
    bitcoin: { role: string; txid: string; height: number | undefined }[];
    deadlines: { name: string; height: number }[];
  };
};
