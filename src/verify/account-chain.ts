/**
 * The account report against the contracts: the same figures read with eth_call at the epoch-end block,
 * each difference a finding. The contracts keep no per-epoch payouts, so those are checked by their sum:
 * the account's accrued reward at this epoch end minus at the previous one must equal what the ledger says
 * this end credited (and likewise the treasury's remainders against the treasury's growth).
 *
 * The report compared must be of the state at the END of the epoch-end block (`replayToBlockEnd`), which is
 * what eth_call reads; it equals the epoch-end state unless next-epoch inputs share that block.
 */
import type { Abi, PublicClient, Address as ViemAddress } from 'viem';
import type { Address } from '../governance/index.ts';
import { epochManagerAbi, paramRegistryAbi, stakingAbi } from '../l2/contracts/artifacts/abis.ts';
import type { GovernanceAddresses } from '../l2/governance-contracts.ts';
import { nameToBytes32 } from '../l2/names.ts';
import { type AccountReport, REASON_PARAMS } from './account.ts';

/** One figure on which the model and the contracts disagree, both sides as text. */
export type AccountFinding = { figure: string; model: string; contract: string };

export type AccountChainParameters = {
  addresses: GovernanceAddresses;
  report: AccountReport;
  /** The epoch-end block: every read is at this block number. */
  blockNumber: bigint;
  /** The previous epoch's end block; undefined for the first epoch (every accrued amount was 0 before). */
  previousEpochEndBlock: bigint | undefined;
};

export type AccountChainResult = { findings: AccountFinding[]; calls: number };

const ZERO = '0x0000000000000000000000000000000000000000';
const lower = (a: string): Address => a.toLowerCase() as Address;
const text = (v: unknown): string => (v === undefined || v === null ? 'none' : String(v));

/**
 * Compares `report` with the contracts at `blockNumber`.
 *
 * @example
 * const { findings } = await compareAccountWithChain(rpc.client, { addresses, report, blockNumber, previousEpochEndBlock });
 */
export async function compareAccountWithChain(
  client: Pick<PublicClient, 'readContract'>,
  p: AccountChainParameters,
): Promise<AccountChainResult> {
  const { addresses, report } = p;
  const account = report.account;
  const findings: AccountFinding[] = [];
  let calls = 0;
  const eq = (figure: string, model: unknown, contract: unknown): void => {
    if (text(model) !== text(contract))
      findings.push({ figure, model: text(model), contract: text(contract) });
  };
  const read = async <T>(
    address: ViemAddress,
    abi: Abi,
    functionName: string,
    args: readonly unknown[] = [],
    blockNumber: bigint = p.blockNumber,
  ): Promise<T> => {
    calls++;
    return (await client.readContract({ address, abi, functionName, args, blockNumber })) as T;
  };
  const { staking, epochManager, registry } = addresses;

  const [epoch, treasury, totalIssued, totalBonded, active, info, delegation, accrued, paramValues] =
    await Promise.all([
      read<bigint>(epochManager, epochManagerAbi as Abi, 'epoch'),
      read<bigint>(epochManager, epochManagerAbi as Abi, 'treasury'),
      read<bigint>(epochManager, epochManagerAbi as Abi, 'totalIssued'),
      read<bigint>(staking, stakingAbi as Abi, 'totalBonded'),
      read<readonly [readonly ViemAddress[], readonly bigint[]]>(
        epochManager,
        epochManagerAbi as Abi,
        'activeSet',
      ),
      read<readonly [boolean, number, bigint, bigint, number]>(staking, stakingAbi as Abi, 'validatorInfo', [
        account,
      ]),
      read<readonly [ViemAddress, bigint]>(staking, stakingAbi as Abi, 'delegationOf', [account]),
      accruedAt(read, epochManager, account, p.blockNumber),
      Promise.all(
        REASON_PARAMS.map((k) => read<bigint>(registry, paramRegistryAbi as Abi, 'get', [nameToBytes32(k)])),
      ),
    ]);

  // -- global figures (the global leaf) --
  // The global leaf's epoch is the next one; the report's is the one that ended.
  eq('epoch', report.epoch + 1n, epoch);
  eq('treasury', report.global.treasury, treasury);
  eq('totalIssued', report.global.totalIssued, totalIssued);
  eq('totalBonded', report.global.totalBonded, totalBonded);
  eq('active set size', report.global.activeCount, active[0].length);
  for (const [i, k] of REASON_PARAMS.entries()) eq(`param ${k}`, report.params[k].value, paramValues[i]);

  // -- as a validator --
  const v = report.validator;
  eq('validator registered', v !== null, info[0]);
  if (v !== null || info[0]) {
    eq('validator commissionBps', v?.commissionBps, info[0] ? info[1] : undefined);
    eq('validator selfStake', v?.selfStake, info[0] ? info[2] : undefined);
    eq('validator delegated', v?.delegated, info[0] ? info[3] : undefined);
    eq('validator delegatorCount', v?.delegatorCount, info[0] ? info[4] : undefined);
  }
  const slot = active[0].findIndex((a) => lower(a) === account);
  eq('active slot', v?.status.slot ?? null, slot >= 0 ? slot : null);
  eq('active power', v?.status.power ?? null, slot >= 0 ? active[1][slot] : null);

  // -- as a delegator (the contract answers the zero address and 0 for no delegation) --
  const d = report.delegation;
  eq('delegation validator', d?.validator ?? ZERO, lower(delegation[0]));
  eq('delegation amount', d?.amount ?? 0n, delegation[1]);

  // -- rewards: accrued, and this epoch's payouts against the accrued delta --
  eq('accrued reward', report.rewards.accrued, accrued);
  const [previousAccrued, previousTreasury] =
    p.previousEpochEndBlock === undefined
      ? [0n, 0n]
      : await Promise.all([
          accruedAt(read, epochManager, account, p.previousEpochEndBlock),
          read<bigint>(epochManager, epochManagerAbi as Abi, 'treasury', [], p.previousEpochEndBlock),
        ]);
  eq('payouts this epoch (Σ) vs accrued delta', report.rewards.payouts.total, accrued - previousAccrued);
  eq(
    'treasury remainders this epoch (Σ) vs treasury delta',
    report.global.remainders.total,
    treasury - previousTreasury,
  );

  return { findings, calls };
}

type Read = <T>(
  address: ViemAddress,
  abi: Abi,
  functionName: string,
  args?: readonly unknown[],
  blockNumber?: bigint,
) => Promise<T>;

/**
 * The account's accrued reward at a block. The contract lists accounts only by index, so this scans them
 * (one call per credited account); an account never credited has 0.
 */
async function accruedAt(
  read: Read,
  epochManager: ViemAddress,
  account: Address,
  block: bigint,
): Promise<bigint> {
  const count = await read<bigint>(epochManager, epochManagerAbi as Abi, 'rewardAccountCount', [], block);
  const rows = await Promise.all(
    Array.from({ length: Number(count) }, (_, i) =>
      read<readonly [ViemAddress, bigint]>(
        epochManager,
        epochManagerAbi as Abi,
        'rewardAccountAt',
        [BigInt(i)],
        block,
      ),
    ),
  );
  for (const [a, accrued] of rows) if (lower(a) === account) return accrued;
  return 0n;
}
