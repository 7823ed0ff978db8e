/**
 * What a devnet operator strategy is: a named way for the operator to behave (honest assert, never
 * assert, or one attack of a dishonest operator), the hooks it plugs into the operator's per-claim and
 * per-block loop, what the run needs for it (a fee market, a lying Bitcoin backend for the watcher), and
 * what the plan expects at the end for every epoch the operator got wrong.
 */
import type { BitcoinBackend } from '../../bitcoin/backends/types.ts';
import type { DevnetBitcoin } from '../../bitcoin/simnet/devnet-bitcoin.ts';
import type { Tx } from '../../bitcoin/tx/types.ts';
import type { Graph } from '../../dispute/graph/build.ts';
import type { GraphParameters } from '../../dispute/graph/parameters.ts';
import type { PresignedSignatures } from '../../dispute/graph/sign.ts';
import type { KickoffSecrets } from '../../dispute/graph/spend.ts';
import type { FeeMarket } from '../fee-market.ts';
import type { OperatorCoin, WalletSigner } from '../operator-coins.ts';

/**
 * How every wrong claim must end for the run to be as expected:
 * - `slashed-by-disprove`: Vigil challenged, the operator asserted, Vigil's disprove took the stake;
 * - `slashed-by-timeout`: Vigil challenged, the operator never asserted, Vigil's assert-timeout took it;
 * - `slashed`: either of the two (the attack may push the operator off its assert);
 * - `cannot-start-alert`: no dispute can start (Vigil has nothing to challenge with), and Vigil raises
 *   an alert naming why;
 * - `slashed-or-alert`: the operator slashed, or else an alert raised (a lying backend: Vigil may be
 *   blinded, but never silently).
 */
export type ExpectedEnd =
  | 'slashed-by-disprove'
  | 'slashed-by-timeout'
  | 'slashed'
  | 'cannot-start-alert'
  | 'slashed-or-alert';

export type ClaimState =
  | 'kicked-off'
  | 'challenged'
  | 'asserted'
  | 'taken'
  | 'paid-out'
  | 'slashed'
  | 'disproved';

export type SendKind = 'take' | 'assert' | 'payout';

/** One claim as a strategy sees it (live: the operator updates it as the chain moves). */
export type ClaimView = {
  readonly epoch: bigint;
  /** Whether the claimed root differs from the reference model's (undefined when unknown). */
  readonly fraud: boolean | undefined;
  readonly graph: Graph;
  readonly sigs: PresignedSignatures;
  /** r_0 … r_k of the operator's own trace. */
  readonly checkpoints: readonly Uint8Array[];
  readonly kickoffTxid: string;
  readonly kickoffHeight: number | undefined;
  readonly assertHeight: number | undefined;
  /** Confirmed spenders of connector A, the stake S and the asserted output D. */
  readonly spent: { readonly a?: string; readonly s?: string; readonly d?: string };
  readonly sent: ReadonlySet<SendKind>;
  readonly state: ClaimState;
};

export type BroadcastResult = { ok: true; txid: string } | { ok: false; reason: string };

/** What the operator lends a strategy: its chain, its wallet, its claims and a voice in the story. */
export type OperatorApi = {
  bitcoin: DevnetBitcoin;
  params: GraphParameters;
  /** The height the next broadcast can first be mined at (the tip the operator last scanned + 1). */
  next(): number;
  claims(): ClaimView[];
  /** The operator's wallet (key-path P2TR) and a coin of at least `value` from its pool. */
  wallet: WalletSigner;
  takeCoin(value: bigint): OperatorCoin;
  returnCoin(coin: OperatorCoin): void;
  /** Broadcasts through the operator's own (honest) backend; refusals come back, never throw. */
  broadcast(tx: Tx, what: string): Promise<BroadcastResult>;
  /** The operator's own take of a claim (presigned), as the default behaviour sends it. */
  sendTake(c: ClaimView, why: string): Promise<void>;
  /** A story line, prefixed `operator:` by the devnet. */
  say(line: string): void;
  /** The devnet's fee market (the miner's floor and the estimate everyone sees). */
  market: FeeMarket;
};

export type KickoffPlan = {
  /** The kick-off broadcast now. */
  broadcast: Tx;
  /** Another witness for the same txid that the next block mines instead (Winternitz equivocation). */
  mineInstead?: Tx;
};

/** The hooks a strategy plugs into the operator; every one is optional (absent = honest default). */
export type OperatorHooks = {
  /**
   * When challenged and not asserted yet, each block: the trace r_0 … r_{k-1} to assert now, 'wait'
   * (ask again next block) or 'never'. Default: the operator's own trace at once.
   */
  assert?(c: ClaimView, api: OperatorApi): readonly Uint8Array[] | 'wait' | 'never';
  /**
   * Publishes the epoch's graph document (canonical bytes). Default: written atomically as
   * `epoch-<n>.json` at once. A strategy may write something else, or nothing yet.
   */
  publish?(
    doc: { epoch: bigint; text: string; fraud: boolean | undefined },
    write: GraphWriter,
  ): Promise<void>;
  /** Builds the kick-off(s) from the claim's values; default: one kick-off revealing the claimed root. */
  kickoff?(k: KickoffArgs): KickoffPlan;
  /** Right after the kick-off went to the mempool, before the next block. */
  afterKickoff?(c: ClaimView, api: OperatorApi): Promise<void>;
  /** Each block, before the operator's default reactions. */
  round?(api: OperatorApi): Promise<void>;
};

export type GraphWriter = {
  /** Writes `text` as the epoch's graph file atomically; returns the path. */
  write(epoch: bigint, text: string): Promise<string>;
  dir: string;
};

export type KickoffArgs = {
  graph: Graph;
  operatorSecret: Uint8Array;
  secrets: KickoffSecrets;
  values: { stateRoot: Uint8Array; l2BlockHash: Uint8Array };
  /** The reference model's root for the epoch, when the devnet knows it. */
  referenceRoot: Uint8Array | undefined;
};

/** A Bitcoin backend for the watcher other than the devnet's honest one. */
export type WatcherBackend = { backend: BitcoinBackend; describe: string; stop(): Promise<void> };

export type OperatorStrategy = {
  name: string;
  /** One line: what the operator does. */
  doc: string;
  expect: ExpectedEnd;
  /**
   * Needs the in-process simnet (its fee estimate knob or its Esplora front); refused with
   * `--bitcoin-rpc`.
   */
  simnetOnly?: boolean;
  /** Fresh hooks for one run (strategies keep per-run state in the closure). */
  hooks(): OperatorHooks;
  /** The fee market the run starts with (default: no floor, no estimate, as regtest). */
  market?: { floorSatVb?: number; estimateSatVb?: number };
  /** The watcher's Bitcoin backend, when it is not the devnet's honest one. */
  watcherBackend?(bitcoin: DevnetBitcoin): Promise<WatcherBackend>;
};
