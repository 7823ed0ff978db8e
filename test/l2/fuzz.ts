/**
 * The differential fuzzer (issue #20): seeded random and mutated transactions to every governance entry
 * point, sent on a real anvil by senders with and without BTR and allowance, several per block; then the
 * whole chain is ingested with the reference model and the epoch-end cross-check, and every transaction's
 * fate on the chain is compared with what the model made of it:
 * - accepted on chain ⇒ exactly one input at its position, which the model accepted;
 * - reverted with `Rejected(rule)` and decodable into a model input ⇒ in the feed with that rule, and the
 *   model rejects it;
 * - any other refusal (token, dirty or truncated calldata, gas, pacing, panic) ⇒ not in the feed.
 * Plus no L2 execution fault, every cross-check ok, nothing rejected or overruled in the derivation.
 *
 * Deterministic per seed (the generator's choices; the chain's answers are a function of them).
 */
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  decodeFunctionData,
  encodeFunctionData,
  type Hex,
  http,
  type Address as ViemAddress,
} from 'viem';
import {
  applyInput,
  createGenesisState,
  type GenesisOptions,
  type GovernanceInput,
  MAX_TOTAL_BONDED,
  PARAM_KEYS,
  PARAM_SPECS,
  type ParamKey,
  UINT256_MAX,
} from '../../src/governance/index.ts';
import { createRng } from '../../src/governance/workload.ts';
import { startAnvil } from '../../src/l2/anvil.ts';
import {
  btrTokenAbi,
  epochManagerAbi,
  governorAbi,
  stakingAbi,
} from '../../src/l2/contracts/artifacts/abis.ts';
import { type Deployment, type DeployOptions, deployGovernance } from '../../src/l2/deploy.ts';
import { AnvilRpc, inputToCall } from '../../src/l2/driver.ts';
import { createGovernanceIngester, type L2ExecutionFault } from '../../src/l2/governance-ingester.ts';
import { bytes32ToName, nameToBytes32 } from '../../src/l2/names.ts';
import { L2Rpc } from '../../src/l2/rpc.ts';
import { DEPLOYER, OPERATOR, testMetrics, testRedis } from './helpers.ts';

/** The entry point a fuzz transaction aims at (`garbage`: an unknown selector). */
export const TX_KINDS = [
  'registerValidator',
  'stake',
  'unstake',
  'delegate',
  'undelegate',
  'propose',
  'castVote',
  'queue',
  'execute',
  'cancel',
  'endEpoch',
  'garbage',
] as const;
export type TxKind = (typeof TX_KINDS)[number];

/** How the calldata or gas of a transaction was damaged after it was built. */
export const MUTATIONS = ['none', 'dirty', 'truncated', 'extended', 'low-gas'] as const;
export type Mutation = (typeof MUTATIONS)[number];

export type FuzzOptions = {
  seed: number;
  /** Fuzz transactions to send (the funding set-up is not counted). */
  transactions: number;
  /** Creation bytecode overrides: a deliberately wrong L2 (tests of the fuzzer itself). */
  bytecode?: DeployOptions['bytecode'];
  /** Genesis of model and contracts; random per seed when undefined. */
  genesis?: GenesisOptions;
  /** EpochManager's pacing limit; random per seed (0..4) when undefined. */
  minEpochBlocks?: bigint;
};

export type Outcome = { sent: number; accepted: number; reverted: number };

export type FuzzResult = {
  seed: number;
  genesis: GenesisOptions;
  minEpochBlocks: bigint;
  /** Fuzz transactions sent (mined); `unsent` the node refused at submission (below intrinsic gas). */
  transactions: number;
  unsent: number;
  blocks: bigint;
  byKind: Record<TxKind, Outcome>;
  byMutation: Record<Mutation, Outcome>;
  /** `vigil_l2_refused_txs_total` by `input:refusal`. */
  refusals: Record<string, number>;
  /** Governance refusals in the feed by the contract's rule. */
  rules: Record<string, number>;
  /** Reverted transactions whose calldata is no model input (`vigil_l2_undecodable_reverted_txs_total`). */
  undecodable: number;
  /** Inputs the chain accepted, by input kind (from the feed). */
  inputs: Record<string, number>;
  epochEnds: number;
  checks: number;
  checksOk: number;
  faults: L2ExecutionFault[];
  /** Per-transaction disagreements between the chain and the model (must be empty). */
  disagreements: string[];
  /** Refused inputs the model rejects by another rule than the contract named (informative). */
  ruleMismatches: Record<string, number>;
  durationMs: number;
};

type Sender = {
  address: ViemAddress;
  role: 'validator' | 'delegator';
  funding: 'rich' | 'unapproved' | 'poor' | 'capped' | 'none';
};

type Sent = { hash: Hex; kind: TxKind; mutation: Mutation; to: ViemAddress; data: Hex; from: ViemAddress };

type Receipt = { transactionHash: Hex; status: Hex; blockNumber: Hex; transactionIndex: Hex };

type ProposalView = {
  proposer: ViemAddress;
  voteEnd: bigint;
  status: number;
  eta: bigint;
};

const REJECTED_ABI = [
  { type: 'error', name: 'Rejected', inputs: [{ name: 'rule', type: 'string' }] },
] as const satisfies Abi;

const WORD = 1n << 256n;
const hex = (n: bigint): Hex => `0x${n.toString(16)}`;
const word = (v: bigint): string => (((v % WORD) + WORD) % WORD).toString(16).padStart(64, '0');
const NORMAL_GAS = 15_000_000n;
const NOWHERE = { block: 0n, txIndex: 0, logIndex: 0 };

const emptyOutcome = (): Outcome => ({ sent: 0, accepted: 0, reverted: 0 });

/** A random genesis inside the bounds, with short periods so proposals run their course in a fuzz run. */
const FUZZ_GAS_LIMIT = 10_000_000_000n;

export function randomGenesis(seed: number): GenesisOptions {
  const rng = createRng(seed ^ 0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const modules =
    rng() < 0.6
      ? [{ id: 'core', version: pick([1n, 7n, (1n << 64n) - 2n]), codeHash: `0x${'ab'.repeat(32)}` as const }]
      : [];
  return {
    params: {
      quorumBps: pick([1n, 2_000n, 4_000n, 4_000n, 10_000n]),
      thresholdBps: pick([5_000n, 6_000n, 9_900n]),
      votingPeriod: BigInt(3 + Math.floor(rng() * 12)),
      timelock: BigInt(Math.floor(rng() * 6)),
      maxValidators: pick([1n, 3n, 10n, 21n]),
      maxPowerBps: pick([100n, 2_000n, 10_000n]),
      minStake: pick([1n, 10n ** 18n, 10n ** 21n]),
      epochReward: pick([0n, 10n ** 20n, 10n ** 27n, 7n]),
      governanceSubsidy: pick([0n, 10n ** 19n, 10n ** 27n, 7n]),
      // The fuzz chain runs at anvil's gas limit and sets no base fee floor: it has no sequencer that
      // applies voted header parameters (their checks are tested in rollup-headers/rollup-sequencer).
      l2GasLimit: FUZZ_GAS_LIMIT,
      minBaseFee: 0n,
      batchInterval: pick([1n, 10n, 10_000n]),
      withdrawalDelay: pick([0n, 100n, 2_000_000n]),
      challengeWindow: pick([6n, 432n, 4_320n]),
    },
    modules,
  };
}

/** The fuzz run for one seed: a fresh anvil, the transactions, the ingestion, the comparison. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const rng = createRng(options.seed);
  const chance = (p: number): boolean => rng() < p;
  const int = (n: number): number => Math.floor(rng() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const genesis = options.genesis ?? randomGenesis(options.seed);
  const minEpochBlocks = options.minEpochBlocks ?? BigInt(int(5));

  const anvil = await startAnvil({ gasLimit: FUZZ_GAS_LIMIT });
  const { redis, prefix, cleanup } = testRedis();
  try {
    const transport = http(anvil.rpcUrl);
    const client = createPublicClient({ transport });
    const deployment: Deployment = await deployGovernance({
      publicClient: client,
      walletClient: createWalletClient({ transport }),
      deployer: DEPLOYER,
      operator: OPERATOR,
      genesis,
      minEpochBlocks,
      ...(options.bytecode ? { bytecode: options.bytecode } : {}),
    });
    const a = deployment.addresses;
    const rpc = new AnvilRpc(anvil.rpcUrl);

    // ---- senders, with varied funding ----
    const senders: Sender[] = [];
    const fundings: Sender['funding'][] = ['rich', 'rich', 'rich', 'rich', 'rich', 'rich', 'rich'];
    const vFund: Sender['funding'][] = [...fundings, 'rich', 'unapproved', 'poor', 'capped', 'none'];
    vFund.forEach((funding, i) => {
      senders.push({ address: fuzzAddress('validator', i), role: 'validator', funding });
    });
    const dFund: Sender['funding'][] = [
      ...Array.from({ length: 34 }, () => 'rich' as const),
      'unapproved',
      'unapproved',
      'poor',
      'poor',
      'capped',
      'none',
    ];
    dFund.forEach((funding, i) => {
      senders.push({ address: fuzzAddress('delegator', i), role: 'delegator', funding });
    });
    const validatorsPool = senders.filter((s) => s.role === 'validator');
    const delegatorsPool = senders.filter((s) => s.role === 'delegator');

    await rpc.request('anvil_autoImpersonateAccount', [true]);
    await rpc.request('evm_setAutomine', [false]);
    const setup: Hex[] = [];
    const send = (from: ViemAddress, to: ViemAddress, data: Hex, gas = NORMAL_GAS) =>
      rpc.request<Hex>('eth_sendTransaction', [{ from, to, data, gas: hex(gas) }]);
    for (const s of senders) {
      await rpc.request('anvil_setBalance', [s.address, hex(10n ** 24n)]);
      const minted =
        s.funding === 'rich'
          ? 1n << 130n
          : s.funding === 'poor'
            ? 1_000_000n
            : s.funding === 'none'
              ? 0n
              : 10n ** 24n;
      if (minted > 0n) {
        setup.push(
          await send(
            DEPLOYER,
            a.token,
            encodeFunctionData({ abi: btrTokenAbi, functionName: 'mint', args: [s.address, minted] }),
          ),
        );
      }
      const allowance =
        s.funding === 'rich' || s.funding === 'poor' ? UINT256_MAX : s.funding === 'capped' ? 10n ** 21n : 0n;
      if (allowance > 0n) {
        setup.push(
          await send(
            s.address,
            a.token,
            encodeFunctionData({ abi: btrTokenAbi, functionName: 'approve', args: [a.staking, allowance] }),
          ),
        );
      }
    }
    await rpc.mine(1);
    for (const h of setup) {
      const r = await rpc.request<Receipt>('eth_getTransactionReceipt', [h]);
      if (r.status !== '0x1') throw new Error(`funding transaction ${h} reverted`);
    }

    // ---- reads of the chain that steer the generator (never the oracle) ----
    let cache = new Map<string, unknown>();
    const cached = async <T>(key: string, read: () => Promise<T>): Promise<T> => {
      if (cache.has(key)) return cache.get(key) as T;
      const v = await read();
      cache.set(key, v);
      return v;
    };
    const balanceOf = (who: ViemAddress) =>
      cached(`bal:${who}`, () =>
        client.readContract({ address: a.token, abi: btrTokenAbi, functionName: 'balanceOf', args: [who] }),
      );
    const selfStakeOf = (who: ViemAddress) =>
      cached(`self:${who}`, async () => {
        const r = await client.readContract({
          address: a.staking,
          abi: stakingAbi,
          functionName: 'validatorInfo',
          args: [who],
        });
        return r[2];
      });
    const delegationOf = (who: ViemAddress) =>
      cached(`del:${who}`, () =>
        client.readContract({
          address: a.staking,
          abi: stakingAbi,
          functionName: 'delegationOf',
          args: [who],
        }),
      );
    const totalBonded = () =>
      cached('bonded', () =>
        client.readContract({ address: a.staking, abi: stakingAbi, functionName: 'totalBonded' }),
      );
    const registered = () =>
      cached('validators', async () => {
        const n = await client.readContract({
          address: a.staking,
          abi: stakingAbi,
          functionName: 'validatorCount',
        });
        const out: ViemAddress[] = [];
        for (let i = 0n; i < n; i++) {
          out.push(
            (
              await client.readContract({
                address: a.staking,
                abi: stakingAbi,
                functionName: 'validatorAt',
                args: [i],
              })
            ).toLowerCase() as ViemAddress,
          );
        }
        return out;
      });
    const proposalCount = () =>
      cached('proposals', () =>
        client.readContract({ address: a.governor, abi: governorAbi, functionName: 'proposalCount' }),
      );
    const proposal = (id: bigint) =>
      cached(`p:${id}`, async (): Promise<ProposalView> => {
        const p = await client.readContract({
          address: a.governor,
          abi: governorAbi,
          functionName: 'getProposal',
          args: [id],
        });
        return { proposer: p.proposer, voteEnd: p.voteEnd, status: p.status, eta: p.eta };
      });

    // ---- the generator ----
    const popular = validatorsPool[0] as Sender;
    const voted = new Set<string>();
    const anyone = (): Sender => (chance(0.5) ? pick(validatorsPool) : pick(delegatorsPool));
    /** Proposals of the last few ids in the state a kind of transaction wants (steering only). */
    const liveIds = async (want: (p: ProposalView, next: bigint) => boolean): Promise<bigint[]> => {
      const count = await proposalCount();
      const out: bigint[] = [];
      for (let id = count; id >= 1n && id > count - 12n; id--)
        if (want(await proposal(id), head + 1n)) out.push(id);
      return out;
    };
    const proposalId = async (kind: TxKind, focus: bigint | undefined): Promise<bigint> => {
      const count = await proposalCount();
      if (focus !== undefined && chance(kind === 'castVote' ? 0.8 : 0.5)) return focus;
      const r = rng();
      if (r < 0.7) {
        const live = await liveIds((p, next) =>
          kind === 'castVote'
            ? p.status === 0 && p.voteEnd >= next
            : kind === 'queue'
              ? p.status === 0 && p.voteEnd < next
              : kind === 'execute'
                ? p.status === 1
                : p.status <= 1,
        );
        if (live.length > 0) return pick(live);
      }
      if (count > 0n && r < 0.9) return count - BigInt(int(Math.min(Number(count), 8)));
      return pick([0n, count + 1n, count + 2n, UINT256_MAX, 1n << 64n]);
    };
    /** An amount for a stake-moving call: mostly plausible, often at a boundary, sometimes absurd. */
    const amountFor = async (cap: bigint, who: ViemAddress, bonding: boolean): Promise<bigint> => {
      const bonded = await totalBonded();
      // A chain bonded near the bound takes no more stake: unbond it again often.
      if (!bonding && bonded > 1n << 100n && chance(0.4)) return cap;
      const r = rng();
      if (r < 0.04) return 0n;
      if (r < 0.08) return 1n;
      if (r < 0.6) return BigInt(1 + int(1_000_000)) * 10n ** BigInt(int(22));
      if (r < 0.72) return cap;
      if (r < 0.78) return cap + 1n;
      if (r < 0.83) return await balanceOf(who);
      if (r < 0.86) return (await balanceOf(who)) + 1n;
      const room = MAX_TOTAL_BONDED - bonded;
      if (r < 0.89) return room;
      if (r < 0.91) return room + 1n;
      if (r < 0.92) return room > 0n ? room - 1n : 0n;
      if (r < 0.95) return UINT256_MAX;
      if (r < 0.97) return 1n << 128n;
      return BigInt(`0x${randomHex(32)}`);
    };
    function randomHex(bytes: number): string {
      let s = '';
      for (let i = 0; i < bytes; i++) s += int(256).toString(16).padStart(2, '0');
      return s;
    }
    const input = <K extends GovernanceInput['kind']>(
      kind: K,
      sender: ViemAddress,
      rest: Omit<Extract<GovernanceInput, { kind: K }>, 'kind' | 'sender' | 'position'>,
    ): GovernanceInput => ({ kind, sender, position: NOWHERE, ...rest }) as GovernanceInput;

    const keptHeaderValue = (key: ParamKey): bigint | undefined =>
      key === 'l2GasLimit' || key === 'minBaseFee' ? genesis.params?.[key] : undefined;
    const paramValue = (key: ParamKey): bigint => {
      const spec = PARAM_SPECS[key];
      const r = rng();
      if (r < 0.08 && spec.min > 0n) return spec.min - 1n;
      if (r < 0.16) return spec.max + 1n;
      if (r < 0.2) return UINT256_MAX;
      // In bounds, a header parameter keeps the chain's value: a change would come into force on a chain
      // that does not apply it (see randomGenesis); it still goes through pending and activation.
      const kept = keptHeaderValue(key);
      if (kept !== undefined) return kept;
      if (r < 0.28) return spec.min;
      if (r < 0.32) return spec.max;
      // In bounds, and short periods so later proposals still end within the run.
      if (key === 'votingPeriod') return BigInt(1 + int(10));
      if (key === 'timelock') return BigInt(int(6));
      const span = spec.max - spec.min;
      return spec.min + (span > 0n ? BigInt(`0x${randomHex(16)}`) % (span + 1n) : 0n);
    };
    /** One action as its five raw words (Common.sol's Action), with invalid ones among them. */
    const actionWords = (): string[] => {
      const r = rng();
      const zero = word(0n);
      if (r < 0.55) {
        const key = pick(PARAM_KEYS);
        return [word(0n), nameToBytes32(key).slice(2), word(paramValue(key)), zero, zero];
      }
      if (r < 0.8) {
        const id = pick(['core', 'bridge', 'x', 'A-b_9', 'z'.repeat(32)]);
        const version = pick([0n, 1n, 2n, 3n, 8n, 100n, (1n << 64n) - 1n, (1n << 64n) - 2n, 1n << 64n]);
        return [word(1n), nameToBytes32(id).slice(2), zero, word(version), randomHex(32)];
      }
      if (r < 0.85) return [word(0n), nameToBytes32('unknownKey').slice(2), word(1n), zero, zero];
      if (r < 0.9) {
        // Not a name: a bad character, or a zero byte inside.
        const bad = pick([
          `21${'00'.repeat(31)}`,
          `6100${'62'.repeat(1)}${'00'.repeat(29)}`,
          '00'.repeat(32),
        ]);
        return [word(BigInt(int(2))), bad, zero, chance(0.5) ? zero : word(1n), zero];
      }
      if (r < 0.95)
        return [word(BigInt(pick([2, 3, 255]))), nameToBytes32('core').slice(2), zero, word(1n), zero];
      // Unused fields set: a setParameter with a version or code hash, an upgrade with a value.
      return chance(0.5)
        ? [word(0n), nameToBytes32('quorumBps').slice(2), word(5000n), word(1n), zero]
        : [word(1n), nameToBytes32('core').slice(2), word(1n), word(1n << 63n), randomHex(32)];
    };
    const proposeData = (): Hex => {
      const n = pick([0, 1, 1, 1, 2, 2, 3, 16, 17]);
      const acts = Array.from({ length: n }, () => (chance(0.85) ? validAction() : actionWords())).flat();
      const selector = inputToCall(a, input('propose', popular.address, { actions: [] })).data.slice(0, 10);
      return `${selector}${word(32n)}${word(BigInt(n))}${acts.join('')}` as Hex;
    };
    /** A valid action (in-bounds parameter or module upgrade), as raw words via inputToCall's encoding. */
    const validAction = (): string[] => {
      if (chance(0.75)) {
        const key = pick(PARAM_KEYS);
        const spec = PARAM_SPECS[key];
        const v =
          key === 'votingPeriod'
            ? BigInt(1 + int(10))
            : key === 'timelock'
              ? BigInt(int(6))
              : chance(0.8)
                ? (keptHeaderValue(key) ?? spec.default)
                : paramValue(key);
        return [word(0n), nameToBytes32(key).slice(2), word(v), word(0n), word(0n)];
      }
      return [word(1n), nameToBytes32('core').slice(2), word(0n), word(BigInt(2 + int(40))), randomHex(32)];
    };

    const build = async (
      kind: TxKind,
      focus: bigint | undefined,
    ): Promise<{ from: ViemAddress; to: ViemAddress; data: Hex }> => {
      switch (kind) {
        case 'registerValidator': {
          const s = chance(0.85) ? pick(validatorsPool) : pick(delegatorsPool);
          const c = pick([0, 1, 500, 3333, 9999, 10_000, 10_000, 10_001, 65_535, 65_536, -1, int(10_001)]);
          return {
            from: s.address,
            ...inputToCall(a, input('registerValidator', s.address, { commissionBps: c })),
          };
        }
        case 'stake':
        case 'unstake': {
          const regs = await registered();
          const s: ViemAddress =
            regs.length > 0 && chance(0.7)
              ? pick(regs)
              : chance(0.9)
                ? pick(validatorsPool).address
                : pick(delegatorsPool).address;
          const cap = kind === 'stake' ? await balanceOf(s) : await selfStakeOf(s);
          const amount = await amountFor(cap, s, kind === 'stake');
          return { from: s, ...inputToCall(a, input(kind, s, { amount })) };
        }
        case 'delegate':
        case 'undelegate': {
          const s = chance(0.9) ? pick(delegatorsPool) : pick(validatorsPool);
          const [current, delegated] = await delegationOf(s.address);
          const regs = await registered();
          const r = rng();
          const validator = (
            r < 0.7 && delegated > 0n
              ? current
              : r < 0.45
                ? (regs[0] ?? popular.address)
                : r < 0.8 && regs.length > 0
                  ? pick(regs)
                  : r < 0.9
                    ? pick(validatorsPool).address
                    : pick([
                        s.address,
                        '0x0000000000000000000000000000000000000000',
                        fuzzAddress('validator', 99),
                      ])
          ).toLowerCase() as ViemAddress;
          const cap = kind === 'delegate' ? await balanceOf(s.address) : delegated;
          const amount = await amountFor(cap, s.address, kind === 'delegate');
          return { from: s.address, ...inputToCall(a, input(kind, s.address, { validator, amount })) };
        }
        case 'propose': {
          const s = anyone();
          return { from: s.address, to: a.governor, data: proposeData() };
        }
        case 'castVote': {
          // Steering: voters with power at the snapshot who have not voted on the proposal yet.
          const id = await proposalId(kind, focus);
          const powered: [ViemAddress, bigint][] = [];
          for (const v of await registered()) {
            const own = await selfStakeOf(v);
            if (own > 0n) powered.push([v, own]);
          }
          for (const d of delegatorsPool) {
            const [, amount] = await delegationOf(d.address);
            if (amount > 0n) powered.push([d.address, amount]);
          }
          // The biggest first: a whale that does not vote keeps every proposal below its quorum.
          const fresh = powered
            .filter(([v]) => !voted.has(`${id}:${v}`))
            .sort((x, y) => (x[1] < y[1] ? 1 : -1));
          const s: ViemAddress =
            fresh.length > 0 && chance(0.85)
              ? (fresh[chance(0.6) ? 0 : int(fresh.length)] as [ViemAddress, bigint])[0]
              : chance(0.5)
                ? pick(validatorsPool).address
                : pick(delegatorsPool).address;
          voted.add(`${id}:${s}`);
          const base = inputToCall(a, input('vote', s, { proposalId: id, support: 'for' })).data;
          const support = pick([0n, 1n, 1n, 1n, 1n, 1n, 1n, 2n, 0n, 2n, 3n, 255n]);
          return { from: s, to: a.governor, data: setWord(base, 1, word(support)) };
        }
        case 'queue':
        case 'execute':
        case 'cancel': {
          const id = await proposalId(kind, focus);
          let s = anyone().address;
          if (kind === 'cancel' && id >= 1n && id <= (await proposalCount()) && chance(0.4)) {
            s = (await proposal(id)).proposer.toLowerCase() as ViemAddress;
          }
          return { from: s, ...inputToCall(a, input(kind, s, { proposalId: id })) };
        }
        case 'endEpoch': {
          const s = anyone().address;
          return { from: s, ...inputToCall(a, input('endEpoch', s, {})) };
        }
        case 'garbage': {
          const to = pick([a.staking, a.governor, a.epochManager]);
          return { from: anyone().address, to, data: `0x${randomHex(4 + int(70))}` as Hex };
        }
      }
    };

    const WEIGHTS: readonly [TxKind, number][] = [
      ['registerValidator', 6],
      ['stake', 12],
      ['unstake', 5],
      ['delegate', 14],
      ['undelegate', 5],
      ['propose', 4],
      ['castVote', 22],
      ['queue', 7],
      ['execute', 6],
      ['cancel', 2],
      ['endEpoch', 3],
      ['garbage', 1],
    ];
    const totalWeight = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    const randomKind = (): TxKind => {
      let r = rng() * totalWeight;
      for (const [k, w] of WEIGHTS) {
        r -= w;
        if (r < 0) return k;
      }
      return 'castVote';
    };
    const mutate = (data: Hex): { data: Hex; mutation: Mutation; gas: bigint } => {
      const r = rng();
      const args = (data.length - 10) / 64;
      if (r < 0.04 && args >= 1) {
        // Dirty ABI padding: a high byte set in one argument word (a different value for a uint256).
        const i = int(Math.min(args, 4));
        const w = data.slice(10 + i * 64, 10 + (i + 1) * 64);
        const high = `${(1 + int(255)).toString(16).padStart(2, '0')}${randomHex(int(3))}`;
        return {
          data: setWord(data, i, `${high}${w.slice(high.length)}`),
          mutation: 'dirty',
          gas: NORMAL_GAS,
        };
      }
      if (r < 0.07 && data.length > 10) {
        const keep = 4 + int((data.length - 2) / 2 - 4);
        return { data: data.slice(0, 2 + keep * 2) as Hex, mutation: 'truncated', gas: NORMAL_GAS };
      }
      if (r < 0.1) {
        return { data: `${data}${randomHex(1 + int(40))}` as Hex, mutation: 'extended', gas: NORMAL_GAS };
      }
      if (r < 0.14) return { data, mutation: 'low-gas', gas: floorGas(data) + BigInt(int(60_000)) };
      return { data, mutation: 'none', gas: NORMAL_GAS };
    };

    // ---- sending, block by block ----
    const sent: Sent[] = [];
    let unsent = 0;
    const epochEvery = 3 + int(12);
    let blocksSinceEnd = 0;
    let head = await rpc.blockNumber();
    while (sent.length + unsent < options.transactions) {
      cache = new Map();
      // Time: sometimes jump to a proposal's boundary (voteEnd, voteEnd+1, eta-1, eta), or a few blocks on.
      let focus: bigint | undefined;
      const count = await proposalCount();
      if (count > 0n && chance(0.12)) {
        const id = count - BigInt(int(Math.min(Number(count), 5)));
        const p = await proposal(id);
        const target =
          p.status === 0
            ? p.voteEnd + BigInt(int(2))
            : p.status === 1
              ? p.eta - 1n + BigInt(int(3))
              : head + 1n;
        if (target > head + 1n && target - head <= 200n) {
          await rpc.mine(Number(target - head - 1n));
          head = target - 1n;
        }
        focus = id;
        cache = new Map();
      } else {
        // Otherwise campaign for the newest proposal still open to votes.
        const open = await liveIds((p, next) => p.status === 0 && p.voteEnd >= next);
        focus = open[0];
      }
      if (focus === undefined && chance(0.08)) {
        const n = 1 + int(4);
        await rpc.mine(n);
        head += BigInt(n);
      }
      const inBlock = Math.min(1 + int(8), options.transactions - sent.length - unsent);
      const endAt = blocksSinceEnd + 1 >= epochEvery ? int(inBlock + 1) : -1;
      const plan: TxKind[] = [];
      for (let k = 0; k < inBlock; k++) {
        // The first blocks register validators more often, so the rest has something to work on.
        const early = head < deployment.startBlock + 20n && chance(0.4);
        plan.push(
          k === endAt ? 'endEpoch' : early ? pick(['registerValidator', 'stake'] as const) : randomKind(),
        );
      }
      if (endAt >= 0 && chance(0.1)) plan.push('endEpoch');
      for (const kind of plan) {
        const call = await build(kind, focus);
        const m =
          kind === 'garbage'
            ? { data: call.data, mutation: 'none' as const, gas: NORMAL_GAS }
            : mutate(call.data);
        try {
          const hash = await send(call.from, call.to, m.data, m.gas);
          sent.push({ hash, kind, mutation: m.mutation, to: call.to, data: m.data, from: call.from });
        } catch {
          unsent++;
        }
      }
      await rpc.mine(1);
      head += 1n;
      blocksSinceEnd = plan.includes('endEpoch') ? 0 : blocksSinceEnd + 1;
    }
    // A last epoch end, so everything sent is cross-checked.
    await rpc.mine(Number(minEpochBlocks) + 1);
    const endData = inputToCall(a, input('endEpoch', DEPLOYER, {})).data;
    const last = await send(DEPLOYER, a.epochManager, endData);
    sent.push({
      hash: last,
      kind: 'endEpoch',
      mutation: 'none',
      to: a.epochManager,
      data: endData,
      from: DEPLOYER,
    });
    await rpc.mine(1);
    head = await rpc.blockNumber();

    // ---- receipts (the chain's answer for each transaction) ----
    const receipts = new Map<Hex, Receipt>();
    for (const s of sent) {
      const r = await rpc.request<Receipt>('eth_getTransactionReceipt', [s.hash]);
      if (!r) throw new Error(`transaction ${s.hash} was never mined`);
      receipts.set(s.hash, r);
    }

    // ---- ingestion with the reference model and the cross-check ----
    const m = testMetrics();
    const gi = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [anvil.rpcUrl] }),
      redis,
      prefix,
      deployment,
      maxRange: 100n,
      metrics: m.metrics,
    });
    await gi.ingester.syncTo(head);

    // ---- the comparison, transaction by transaction ----
    const disagreements: string[] = [];
    const d = gi.derivation;
    const at = (block: bigint, txIndex: number) => `${block}:${txIndex}`;
    const inputsAt = new Map<string, number[]>();
    d.inputs.forEach((i, k) => {
      const key = at(i.position.block, i.position.txIndex);
      inputsAt.set(key, [...(inputsAt.get(key) ?? []), k]);
    });
    const journalReverted = new Map<string, { rule: string | undefined; block: bigint }>();
    for (const b of await gi.store.journal()) {
      for (const e of b.entries) {
        if (e.type === 'reverted')
          journalReverted.set(e.txHash.toLowerCase(), { rule: e.rule, block: b.number });
      }
    }
    // The model's own verdict on every input of the feed (the overruled ones left out, as the derivation).
    const verdict: { accepted: boolean; rule?: string }[] = [];
    const state = createGenesisState(genesis);
    d.inputs.forEach((i, k) => {
      if (d.overruledInputs.has(k)) {
        verdict.push({ accepted: true });
        return;
      }
      const out = applyInput(state, i);
      verdict.push(out.accepted ? { accepted: true } : { accepted: false, rule: out.rejectedBy });
    });

    const byKind = Object.fromEntries(TX_KINDS.map((k) => [k, emptyOutcome()])) as Record<TxKind, Outcome>;
    const byMutation = Object.fromEntries(MUTATIONS.map((k) => [k, emptyOutcome()])) as Record<
      Mutation,
      Outcome
    >;
    const ruleMismatches: Record<string, number> = {};
    const claimed = new Set<number>();
    const inputs: Record<string, number> = {};
    let expectedUndecodable = 0;
    let eitherReverted = 0;
    for (const s of sent) {
      const r = receipts.get(s.hash) as Receipt;
      const block = BigInt(r.blockNumber);
      const key = at(block, Number(r.transactionIndex));
      const here = inputsAt.get(key) ?? [];
      const tag = `${s.kind}/${s.mutation} ${s.hash} at ${key}`;
      byKind[s.kind].sent++;
      byMutation[s.mutation].sent++;
      if (r.status === '0x1') {
        byKind[s.kind].accepted++;
        byMutation[s.mutation].accepted++;
        if (here.length !== 1) {
          disagreements.push(`${tag}: accepted on chain, ${here.length} inputs in the feed`);
          continue;
        }
        const k = here[0] as number;
        claimed.add(k);
        const want = s.kind === 'castVote' ? 'vote' : s.kind;
        inputs[want] = (inputs[want] ?? 0) + 1;
        if (d.inputs[k]?.kind !== want)
          disagreements.push(`${tag}: accepted on chain as ${d.inputs[k]?.kind}`);
        if (!verdict[k]?.accepted) {
          disagreements.push(`${tag}: accepted on chain, rejected by the model (${verdict[k]?.rule})`);
        }
        continue;
      }
      byKind[s.kind].reverted++;
      byMutation[s.mutation].reverted++;
      const rule = await rejectedRule(rpc, s.hash);
      const representable = modelInputCall(a, s.to, s.data);
      const journaled = journalReverted.get(s.hash.toLowerCase());
      if (representable === 'no') expectedUndecodable++;
      if (representable === 'either') {
        eitherReverted++;
        if (journaled === undefined && rule !== undefined) expectedUndecodable++;
      }
      if (rule !== undefined && (representable === 'yes' || (representable === 'either' && journaled))) {
        if (!journaled || journaled.rule !== rule || here.length !== 1) {
          disagreements.push(`${tag}: refused naming ${rule}, but the feed has ${JSON.stringify(journaled)}`);
          continue;
        }
        const k = here[0] as number;
        claimed.add(k);
        if (d.overruledInputs.has(k)) {
          disagreements.push(`${tag}: refused naming ${rule} on chain, accepted by the model`);
        } else if (verdict[k]?.accepted) {
          disagreements.push(`${tag}: refused naming ${rule} on chain, accepted by the model`);
        } else if (verdict[k]?.rule !== rule) {
          const mm = `${s.kind}: chain ${rule}, model ${verdict[k]?.rule}`;
          ruleMismatches[mm] = (ruleMismatches[mm] ?? 0) + 1;
        }
      } else if (journaled || here.length > 0) {
        disagreements.push(`${tag}: not a governance input (rule ${rule ?? 'none'}), but in the feed`);
      }
    }
    d.inputs.forEach((i, k) => {
      if (!claimed.has(k))
        disagreements.push(
          `an input no fuzz transaction explains: ${i.kind} at ${at(i.position.block, i.position.txIndex)}`,
        );
    });

    const refusals: Record<string, number> = {};
    const refusedMetric = await m.registry.getSingleMetric('vigil_l2_refused_txs_total')?.get();
    for (const v of refusedMetric?.values ?? []) refusals[`${v.labels.input}:${v.labels.refusal}`] = v.value;
    const undecodableMetric = await m.registry
      .getSingleMetric('vigil_l2_undecodable_reverted_txs_total')
      ?.get();
    const undecodable = (undecodableMetric?.values ?? []).reduce((t, v) => t + v.value, 0);
    const revertedCount = sent.filter((s) => receipts.get(s.hash)?.status !== '0x1').length;
    const refusedCount = Object.values(refusals).reduce((t, v) => t + v, 0);
    // A refused action with unused fields set may be decoded or not (below), whatever its refusal.
    if (undecodable < expectedUndecodable || undecodable > expectedUndecodable + eitherReverted) {
      disagreements.push(
        `undecodable reverted transactions: ingestion ${undecodable}, expected ${expectedUndecodable} (+ up to ${eitherReverted})`,
      );
    }
    if (refusedCount + undecodable !== revertedCount) {
      disagreements.push(
        `reverted transactions: ${revertedCount} on chain, ${refusedCount} refusals + ${undecodable} undecodable counted`,
      );
    }
    const rules: Record<string, number> = {};
    for (const j of journalReverted.values()) rules[j.rule ?? '?'] = (rules[j.rule ?? '?'] ?? 0) + 1;
    return {
      seed: options.seed,
      genesis,
      minEpochBlocks,
      transactions: sent.length,
      unsent,
      blocks: head,
      byKind,
      byMutation,
      refusals,
      rules,
      undecodable,
      inputs,
      epochEnds: d.epochEnds.length,
      checks: gi.checks.length,
      checksOk: gi.checks.filter((c) => c.ok).length,
      faults: gi.faults,
      disagreements: [
        ...disagreements,
        ...d.rejected.map((x) => `derivation.rejected: ${x.input.kind} by ${x.rule}: ${x.reason}`),
        ...d.revertedAccepted.map(
          (x) => `derivation.revertedAccepted: ${x.input.kind} (${x.rule}) ${x.txHash}`,
        ),
      ],
      ruleMismatches,
      durationMs: Date.now() - started,
    };
  } finally {
    await cleanup();
    await anvil.stop();
  }
}

/** A fuzz sender's address: a role byte, then the index. */
export function fuzzAddress(role: 'validator' | 'delegator', i: number): ViemAddress {
  return `0x${role === 'validator' ? 'f0' : 'f1'}${i.toString(16).padStart(38, '0')}` as ViemAddress;
}

/** Replaces argument word `i` (0-based, after the selector) of calldata. */
function setWord(data: Hex, i: number, w: string): Hex {
  const start = 10 + i * 64;
  return `${data.slice(0, start)}${w}${data.slice(start + 64)}` as Hex;
}

/** The least gas the node accepts for calldata (EIP-7623's floor is above the intrinsic cost). */
function floorGas(data: Hex): bigint {
  let tokens = 0n;
  for (let i = 2; i < data.length; i += 2) tokens += data.slice(i, i + 2) === '00' ? 1n : 4n;
  return 21_000n + 10n * tokens;
}

/** The rule a reverted transaction's top call names (`Rejected(rule)`), from the node's call tracer. */
async function rejectedRule(rpc: AnvilRpc, hash: Hex): Promise<string | undefined> {
  const t = await rpc.request<{ output?: Hex }>('debug_traceTransaction', [
    hash,
    { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
  ]);
  if (!t.output || t.output.length < 10) return undefined;
  try {
    const e = decodeErrorResult({ abi: REJECTED_ABI, data: t.output });
    return e.args[0];
  } catch {
    return undefined;
  }
}

const ENTRY_POINTS: Record<string, readonly string[]> = {
  Staking: ['registerValidator', 'stake', 'unstake', 'delegate', 'undelegate'],
  Governor: ['propose', 'castVote', 'queue', 'execute', 'cancel'],
  EpochManager: ['endEpoch'],
};

/**
 * Whether calldata decodes into a model input at all (independently of ingestion): a function of the
 * target's ABI that is a governance entry point, with a support of 0..2 and actions of kind 0 or 1 whose
 * key is a name. A refusal of anything else cannot be in the feed. 'either': a proposal action that sets a
 * field its kind does not use (Common.sol: "Unused fields must be zero"), which the model's actions cannot
 * carry; whether such a refused call is no input or an input the model refuses is the ingestion's choice,
 * but the model must never accept it.
 */
function modelInputCall(a: Deployment['addresses'], to: ViemAddress, data: Hex): 'yes' | 'no' | 'either' {
  const target =
    to.toLowerCase() === a.staking.toLowerCase()
      ? { name: 'Staking', abi: stakingAbi as Abi }
      : to.toLowerCase() === a.governor.toLowerCase()
        ? { name: 'Governor', abi: governorAbi as Abi }
        : to.toLowerCase() === a.epochManager.toLowerCase()
          ? { name: 'EpochManager', abi: epochManagerAbi as Abi }
          : undefined;
  if (!target) return 'no';
  let call: { functionName: string; args: readonly unknown[] };
  try {
    const d = decodeFunctionData({ abi: target.abi, data });
    call = { functionName: d.functionName, args: (d.args ?? []) as readonly unknown[] };
  } catch {
    return 'no';
  }
  if (!ENTRY_POINTS[target.name]?.includes(call.functionName)) return 'no';
  if (call.functionName === 'castVote') return Number(call.args[1]) <= 2 ? 'yes' : 'no';
  let unused = false;
  if (call.functionName === 'propose') {
    const actions = call.args[0] as readonly {
      kind: number;
      key: Hex;
      value: bigint;
      version: bigint;
      codeHash: Hex;
    }[];
    try {
      for (const x of actions) {
        if (x.kind !== 0 && x.kind !== 1) return 'no';
        if (x.kind === 0 && (x.version !== 0n || BigInt(x.codeHash) !== 0n)) unused = true;
        if (x.kind === 1 && x.value !== 0n) unused = true;
        bytes32ToName(x.key);
      }
    } catch {
      return 'no';
    }
  }
  return unused ? 'either' : 'yes';
}
