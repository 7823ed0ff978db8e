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
