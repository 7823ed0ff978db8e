/**
 * The L2 block header against the governed rollup parameters (docs/l2-ingestion.md "Header checks"):
 * `gasLimit` must equal `l2GasLimit` and `baseFeePerGas` must be at least `minBaseFee` (a header without
 * one counts as 0). The parameters in force for block b are the model's after every input of the blocks
 * before b: a change activated by an endEpoch in block b applies from block b + 1.
 */
import type { Params } from '../governance/index.ts';
import type { BlockHeader } from './rpc.ts';

/** The rollup parameters a block header is checked against. */
export type HeaderParam = 'l2GasLimit' | 'minBaseFee';

export const HEADER_PARAMS: readonly HeaderParam[] = ['l2GasLimit', 'minBaseFee'];

/** One header field that breaks the parameter in force: the value governance voted and the one observed. */
export type HeaderViolation = { param: HeaderParam; voted: bigint; observed: bigint };

export function headerViolations(
  header: Pick<BlockHeader, 'gasLimit' | 'baseFeePerGas'>,
  params: Pick<Params, HeaderParam>,
): HeaderViolation[] {
  const out: HeaderViolation[] = [];
  if (header.gasLimit !== params.l2GasLimit)
    out.push({ param: 'l2GasLimit', voted: params.l2GasLimit, observed: header.gasLimit });
  const baseFee = header.baseFeePerGas ?? 0n;
  if (baseFee < params.minBaseFee)
    out.push({ param: 'minBaseFee', voted: params.minBaseFee, observed: baseFee });
  return out;
}

/** An unbroken run of blocks breaking one parameter the same way (same voted and observed values). */
export type ViolationRun = HeaderViolation & {
  firstBlock: bigint;
  firstHash: string;
  /** Blocks in the run so far. */
  blocks: number;
};

export type HeaderVerdict = {
  /** Runs this header starts: each is one L2 execution fault to report. */
  started: ViolationRun[];
  /** Runs this header continues (counted, not reported again). */
  continued: ViolationRun[];
  /** Runs that ended at the block before this header (the chain obeys the parameter again). */
  ended: ViolationRun[];
};

/**
 * Follows the headers in block order and groups violations into runs, so a chain that keeps breaking a
 * parameter for months is one fault (and one counter increment per block), not one fault per block. A
 * header at or below the last one checked (a step resumed after a failure) is not counted twice; a
 * rewind forgets what the orphaned blocks showed.
 */
export class ViolationRuns {
  private readonly open = new Map<HeaderParam, ViolationRun>();
  private lastChecked: bigint | undefined;

  check(
    header: Pick<BlockHeader, 'number' | 'hash' | 'gasLimit' | 'baseFeePerGas'>,
    params: Pick<Params, HeaderParam>,
  ): HeaderVerdict {
    const verdict: HeaderVerdict = { started: [], continued: [], ended: [] };
    if (this.lastChecked !== undefined && header.number <= this.lastChecked) return verdict;
    this.lastChecked = header.number;
    const now = new Map(headerViolations(header, params).map((v) => [v.param, v]));
    for (const param of HEADER_PARAMS) {
      const v = now.get(param);
      const run = this.open.get(param);
      if (run !== undefined && (v === undefined || v.voted !== run.voted || v.observed !== run.observed)) {
        this.open.delete(param);
        verdict.ended.push(run);
      }
      if (v === undefined) continue;
      const current = this.open.get(param);
      if (current !== undefined) {
        current.blocks++;
        verdict.continued.push(current);
      } else {
        const started: ViolationRun = { ...v, firstBlock: header.number, firstHash: header.hash, blocks: 1 };
        this.open.set(param, started);
        verdict.started.push(started);
      }
    }
    return verdict;
  }

  /** The chain was rewound to `forkNumber`: runs that started above it are forgotten, others shortened. */
  rewind(forkNumber: bigint): void {
    if (this.lastChecked === undefined || this.lastChecked <= forkNumber) return;
    for (const [param, run] of this.open) {
      if (run.firstBlock > forkNumber) this.open.delete(param);
      else run.blocks = Number(forkNumber - run.firstBlock) + 1;
    }
    this.lastChecked = forkNumber;
  }

  /** The runs open now, per parameter. */
  openRuns(): ViolationRun[] {
    return [...this.open.values()];
  }
}
