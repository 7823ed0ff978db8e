/**
 * The typed payloads of the dispute jobs, as BullMQ stores them (JSON: no bigints, so the epoch is a
 * decimal string). Job ids are derived in src/queue/job-ids.ts and do not depend on this module.
 */
export type OpenJobData = {
  disputeId: string;
  epoch: string;
  kickoffTxid: string;
  kickoffHeight: number;
  /** The graph document (JSON), kept in the record for re-import and export. */
  graph: string;
  verdict: string;
  /** When the fraudulent kick-off was seen at depth (ms), for the detection-latency metric. */
  seenAt: number;
  challengeWindow: number;
  assertWindow: number;
  /**
   * Vigil's own trace roots r_0 … r_k of the epoch (hex, k + 1 of them, k = the graph's traceSteps),
   * cut by `traceCheckpoints`. After an assert, the first step where the operator's roots part from
   * these is the one Vigil disproves; without them Vigil disproves nothing.
   */
  expectedTrace?: string[];
  /** Where the fraud is (JSON: governance step, rule...), informational: kept in the record and bundle. */
  diagnosis?: string;
};

export type DisputeJobData = { disputeId: string };
