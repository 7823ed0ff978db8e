/**
 * Why the chain refused a transaction, and whether that refusal makes it a governance input
 * (docs/protocol.md §1, "Refused transactions"). Only a refusal the governance contracts raise by
 * naming a rule (`Rejected(string rule)`) is an input the model must also refuse. Everything else — the
 * token's balance or allowance check, calldata the ABI decoder refuses, running out of gas, a pacing limit
 * of the chain, an arithmetic panic — is not a governance input: it reaches neither the model nor the
 * operator's trace, and it is never a reason to report the L2 or accuse anyone.
 *
 * Pure: the revert data comes from the RPC (revert-fetcher.ts); this module only reads it.
 */
import { type Abi, decodeErrorResult, encodeFunctionData, type Hex } from 'viem';

/** What the node told about the refusal: the top call's revert data and its error text, when known. */
export type RevertReport = {
  /** How it was learned: a trace of the transaction itself, or a re-run of its call at the parent block. */
  source: 'trace' | 'call';
  /** The revert data (0x for an empty revert); undefined when the node gave none. */
  data: Hex | undefined;
  /** The node's error text for the top call ("execution reverted", "out of gas", ...). */
  error: string | undefined;
};

/** Reasons a refused transaction is not a governance input. */
export const NOT_INPUT_REASONS = [
  /** The token refused to move the stake: the sender lacks the BTR. */
  'token-balance',
  /** The token refused to move the stake: the sender has not approved Staking for it. */
  'token-allowance',
  /** Calldata that is not the canonical ABI encoding of its arguments (dirty padding, out-of-range values). */
  'malformed-calldata',
  /** The transaction's gas ran out. */
  'out-of-gas',
  /** `EpochManager.endEpoch` before the chain's minimum epoch length: pacing, not a rule of §6. */
  'too-early',
  /** A Solidity panic (arithmetic overflow, ...): the bounds of §2 make it unreachable for inputs. */
  'panic',
  /** An empty revert or one with data no governance contract raises. */
  'unexplained',
] as const;
export type NotInputReason = (typeof NOT_INPUT_REASONS)[number];

export type Refusal =
  | { kind: 'governance'; rule: string }
  | { kind: 'not-input'; reason: NotInputReason; detail?: string };

/** The errors a refused governance call can carry (the contracts' and the token's, which Staking bubbles). */
const REFUSAL_ERRORS = [
  { type: 'error', name: 'Rejected', inputs: [{ name: 'rule', type: 'string' }] },
  { type: 'error', name: 'TooEarly', inputs: [{ name: 'nextAllowedBlock', type: 'uint64' }] },
  { type: 'error', name: 'InsufficientBalance', inputs: [] },
  { type: 'error', name: 'InsufficientAllowance', inputs: [] },
] as const satisfies Abi;

const isOutOfGas = (error: string | undefined): boolean =>
  error !== undefined && /out ?of ?gas|gas uint64 overflow|intrinsic gas too low/i.test(error);

/**
 * Classifies one refused transaction. `canonical` says whether re-encoding its decoded call gives back
 * its calldata byte for byte (see `isCanonicalCall`).
 */
export function classifyRefusal(report: RevertReport, canonical: boolean): Refusal {
  if (isOutOfGas(report.error)) return { kind: 'not-input', reason: 'out-of-gas' };
  const data = report.data;
  if (data !== undefined && data.length >= 10) {
    try {
      const e = decodeErrorResult({ abi: REFUSAL_ERRORS, data });
      switch (e.errorName) {
        case 'Rejected':
          return { kind: 'governance', rule: String(e.args[0]) };
        case 'TooEarly':
          return { kind: 'not-input', reason: 'too-early', detail: `next allowed block ${e.args[0]}` };
        case 'InsufficientBalance':
          return { kind: 'not-input', reason: 'token-balance' };
        case 'InsufficientAllowance':
          return { kind: 'not-input', reason: 'token-allowance' };
      }
    } catch {
      // Not one of the refusal errors: a panic or something no governance contract raises (below).
    }
    if (data.slice(0, 10).toLowerCase() === PANIC_SELECTOR) {
      return {
        kind: 'not-input',
        reason: 'panic',
        detail: `code 0x${data.slice(10).replace(/^0+/, '') || '0'}`,
      };
    }
  }
  if (!canonical) return { kind: 'not-input', reason: 'malformed-calldata' };
  return {
    kind: 'not-input',
    reason: 'unexplained',
    detail: data === undefined ? 'the node gave no revert data' : `revert data ${data.slice(0, 74)}`,
  };
}

/** `Panic(uint256)`. */
const PANIC_SELECTOR = '0x4e487b71';

/**
 * True when `data` is exactly the ABI encoding of the call it decodes to. Solidity's decoder refuses
 * dirty padding and out-of-range values (an address with upper bytes set, a uint16 of 65536) where viem's
 * decoder may read a clean value; calldata that is not canonical therefore did not run the function the
 * decoded call names, and the refusal it caused is not that input's.
 */
export function isCanonicalCall(
  abi: Abi,
  data: Hex,
  call: { functionName: string; args: readonly unknown[] },
): boolean {
  try {
    const again = encodeFunctionData({ abi, functionName: call.functionName, args: call.args } as Parameters<
      typeof encodeFunctionData
    >[0]);
    return again.toLowerCase() === data.toLowerCase();
  } catch {
    return false;
  }
}

/** The short name of a refusal for metrics and logs: the rule for a governance refusal, else the reason. */
export function refusalLabel(r: Refusal): string {
  return r.kind === 'governance' ? 'governance' : r.reason;
}
