/**
 * `vigil devnet serve`: a devnet that keeps running, for the real daemon to watch from another terminal.
 * anvil runs the L2 with the governance contracts and the seeded workload, one block per `l2BlockMs`;
 * the in-process simnet serves Bitcoin on Core-RPC and Esplora fronts, one block per `bitcoinBlockMs`;
 * the operator commits every epoch on the L2 and claims it on Bitcoin with a published graph, and plays
 * its side of every dispute. Nothing of Vigil's watcher runs here: `vigil watch --config <dir>/watch.yaml`
 * does that, as a separate process.
 *
 * Everything lives in one directory (serve-dir.ts), so an interrupted `serve` started again on the same
 * directory resumes the same network: anvil reloads its state, the simnet its recorded chain and mempool,
 * the operator its claims and coins; the workload continues at the block it stopped at. The operator's
 * fault and strategy are read from the directory's control file before every block, so `vigil devnet
 * fault` and `vigil devnet operator` change them while it runs.
 *
 * An epoch costs the same at epoch 10 and at epoch 10,000: the operator's claims walk the reference
 * state forward (serve-claims.ts; a faulty epoch re-executes from genesis), claims and commits are
 * appended a line each, the operator forgets a claim once it is settled on Bitcoin, and its coin pool
 * is refilled from its own coins without mining (operator-funding.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { encodeFunctionData } from 'viem';
import { addressForScript } from '../bitcoin/codec/address.ts';
import { connectDevnetBitcoin, type DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { WalletKey } from '../bitcoin/wallet/keys.ts';
import { bytesToHex, concatBytes, hexToBytes } from '../core/bytes.ts';
import { VigilError } from '../core/errors.ts';
import { pause } from '../core/pause.ts';
import { type Executor, executorByName, REFERENCE_EXECUTOR } from '../governance/index.ts';
import type { GovernanceInput } from '../governance/inputs.ts';
import { startAnvil } from '../l2/anvil.ts';
import { stateCommitmentAbi } from '../l2/contracts/artifacts/abis.ts';
import type { Deployment } from '../l2/deploy.ts';
import type { EpochEnd } from '../l2/derivation.ts';
import {
  DEVNET_DEPLOYER,
  DEVNET_OPERATOR,
  deployOnAnvil,
  genesisGasLimit,
  placeholderKickoffTxid,
} from '../l2/devnet.ts';
import { AnvilRpc, WorkloadDriver } from '../l2/driver.ts';
import { createGovernanceIngester, type GovernanceIngester } from '../l2/governance-ingester.ts';
import { MemoryJournalStore } from '../l2/memory-journal-store.ts';
import { RollupSequencer } from '../l2/rollup-sequencer.ts';
import { L2Rpc } from '../l2/rpc.ts';
import { createFeeMarket, type FeeMarket } from './fee-market.ts';
import { type DevnetOperator, type OperatorBehaviour, startDevnetOperator } from './operator.ts';
import type { ClaimResult, RecordedClaim } from './operator-kickoff.ts';
import { DEVNET_NETWORK, type Say, StopStack, WATCHER_COINS } from './run-context.ts';
import { executorForEpoch, type OperatorEpochClaim } from './serve-claims.ts';
import { describeControl } from './serve-control.ts';
import {
  ClaimLedger,
  CommitLog,
  lockServeDir,
  readServeRecord,
  SERVE_FORMAT,
  type ServeControl,
  ServeDirError,
  type ServeDirPaths,
  type ServedClaim,
  type ServeRecord,
  serveDirPaths,
  writeServeRecord,
} from './serve-dir.ts';
import { type EpochClaimer, type L2EpochClaim, part2Claimer } from './serve-epoch-claimer.ts';
import {
  deployServedRegistry,
  SERVED_BOND_COINS,
  type ServedBitcoinSide,
  startServedGame,
  vigilBondAddress,
  writeVigilL2Key,
} from './serve-game.ts';
import { ControlWatch, servedStrategy } from './serve-operator-control.ts';
import { rebroadcastLost } from './serve-rebroadcast.ts';
import { writeSecretFile, writeWatchConfig, writeWatcherKey } from './serve-watch-config.ts';
import { DEFAULT_EPOCH_LENGTH, servedWorkload } from './serve-workload.ts';
import type { OperatorStrategy } from './strategies/index.ts';

export class ServeError extends VigilError {
  override name = 'ServeError';
}

export type ServeOptions = {
  dir: string;
  /** The workload's seed and length, at creation (a resumed network keeps its own). */
  seed?: number;
  epochs?: number;
  /** Inputs per epoch of the workload, at creation (default 30). */
  epochLength?: number;
  /** Time between two L2 blocks (default 250 ms). */
  l2BlockMs?: number;
  /** Time between two Bitcoin blocks (default 1000 ms). */
  bitcoinBlockMs?: number;
  /** Seconds between two saves of anvil's state (default 5): what a SIGKILL may lose of the L2. */
  l2StateIntervalS?: number;
  /**
   * Which L2 states anvil's saves hold: 'all' (default) every block's, so a resumed network's past
   * blocks stay readable; 'last' the newest only, so a save grows with the chain's blocks and not with a
   * copy of the whole state per block.
   */
  l2SavedStates?: 'all' | 'last';
  /** The Redis the generated watch config points the daemon at. */
  redisUrl: string;
  /** The daemon's HTTP port in the generated config (default 9464). */
  watchHttpPort?: number;
  /**
   * At creation: the operator plays the narrowing game (docs/protocol.md §24) through a challenger
   * registry, instead of Part II's graph. A resumed network keeps what it was created with.
   */
  game?: boolean;
  signal: AbortSignal;
  say: Say;
  logger?: Logger;
};

/** After the workload the L2 mines empty blocks and nothing more is claimed. */
const DEFAULT_EPOCHS = 300;
const ANVIL_STATE_INTERVAL_S = 5;
/** Historical L2 states anvil keeps in a long run (`--l2-saved-states last`): about 70 soak epochs. */
const LONG_RUN_L2_STATES = 1000;
/**
 * Claims made before one Bitcoin block at most: well inside what the operator's coin pool carries
 * unconfirmed (24 coins, 10 claims deep each; operator-funding.ts).
 */
const MAX_CLAIMS_PER_BLOCK = 20;

const L2_CHAIN_ID = 31337;

class Aborted extends Error {}

/** Runs the served devnet until `signal` aborts; resolves once everything is stopped and saved. */
export async function serveDevnet(o: ServeOptions): Promise<void> {
  const paths = serveDirPaths(o.dir);
  const release = lockServeDir(paths);
  const stops = new StopStack();
  stops.push(async () => release());
  const failures: unknown[] = [];
  try {
    await serveLocked(o, paths, stops);
  } finally {
    // A stop that failed (a mempool not saved, anvil killed in the middle of its dump) is not a clean one.
    await stops.stopAll((err) => failures.push(err));
  }
  if (failures.length > 0) {
    throw new ServeError('The devnet did not stop cleanly: what it saved may be incomplete', {
      metaMessages: failures.map((f) => errorText(f)),
    });
  }
}

async function serveLocked(o: ServeOptions, paths: ServeDirPaths, stops: StopStack): Promise<void> {
  const { say } = o;
  mkdirSync(paths.graphs, { recursive: true });
  mkdirSync(paths.bitcoin, { recursive: true, mode: 0o700 });
  const existing = readServeRecord(paths);
  checkResumeOptions(o, existing);
  const seed = existing?.seed ?? o.seed ?? 1;
  const epochs = existing?.epochs ?? o.epochs ?? DEFAULT_EPOCHS;
  const epochLength = existing?.epochLength ?? o.epochLength ?? DEFAULT_EPOCH_LENGTH;
  const workload = servedWorkload({ seed, epochs, epochLength });

  // 1. The L2: anvil with its state in the directory.
  const anvil = await startAnvil({
    gasLimit: genesisGasLimit(workload.genesis),
    ...(existing ? { port: existing.ports.l2 } : {}),
    stopTimeoutMs: 60_000,
    stopOnSignalByOwner: true,
    // Past the states it holds in memory, anvil writes one file per block with the whole state (0.6 MB
    // at first, several MB a thousand epochs on): a soak filled this machine's 79 GB free at epoch 1,500,
    // twice. A long run keeps the newest ones in memory only, well past what the daemon reads behind its
    // head (`--max-persisted-states` instead stopped anvil answering once it reached its bound).
    ...(o.l2SavedStates === 'last' ? { pruneHistory: LONG_RUN_L2_STATES } : {}),
    args: [
      '--state',
      paths.anvilState,
      '--state-interval',
      String(o.l2StateIntervalS ?? ANVIL_STATE_INTERVAL_S),
      // anvil keeps a copy of the whole state per block, and saves them all with this flag (~0.7 MB a
      // block here, growing with the contracts' storage: a 2,600-block chain made a 1.8 GB save every
      // 5 s). A long run saves the newest state only; the daemon then cannot read the state of blocks
      // before a restart (its epoch-end cross-check of an epoch it had not reached at the stop).
      ...(o.l2SavedStates === 'last' ? [] : ['--preserve-historical-states']),
    ],
  });
  stops.push(() => anvil.stop());
  const rpc = new AnvilRpc(anvil.rpcUrl);
  const deployment = existing
    ? await resumedDeployment(rpc, existing, workload.genesis)
    : await deployOnAnvil(anvil.rpcUrl, workload.genesis);
  const ledger = new ClaimLedger(paths);
  stops.push(async () => ledger.close());
  if (existing) await checkClaimedBlocks(rpc, ledger);

  // 2. Bitcoin: the simnet with its chain in the directory.
  const bitcoin = await connectDevnetBitcoin({
    simnet: {
      stateDir: paths.bitcoin,
      ...(existing ? { rpcPort: existing.ports.bitcoinRpc, esploraPort: existing.ports.esplora } : {}),
    },
  });
  stops.push(() => bitcoin.stop());
  const simnet = bitcoin.simnet as NonNullable<DevnetBitcoin['simnet']>;

  // 3. At creation: the watcher's funded wallet, the workload's senders, the record.
  const driver = new WorkloadDriver(rpc, deployment.addresses, DEVNET_DEPLOYER);
  // Blocks obey the rollup parameters in force; on a resume anvil restarts with its genesis gas limit, so
  // the sequencer sets the one in force again before any block.
  const sequencer = new RollupSequencer(rpc, deployment.addresses.registry);
  await sequencer.start();
  let record: ServeRecord;
  if (existing) {
    record = existing;
    say(
      `resumed the devnet in ${paths.root} (seed ${seed}, ${epochs} epochs of ${epochLength} inputs planned${existing.game === undefined ? `, ${ledger.size} claimed` : ', the narrowing game'})`,
    );
  } else {
    // Before the workload's senders: anvil still mines each transaction at once.
    const game =
      o.game === true ? await deployServedRegistry(anvil.rpcUrl, deployment, o.l2BlockMs ?? 250) : undefined;
    const watcherSecret = randomBytes(32);
    writeWatcherKey(paths, watcherSecret);
    const watcherKey = WalletKey.fromBytes(watcherSecret);
    const watcherAddress = addressForScript(
      concatBytes(Uint8Array.of(0x51, 0x20), watcherKey.taprootOutputKey),
      DEVNET_NETWORK,
    ) as string;
    await bitcoin.mine(WATCHER_COINS, watcherAddress);
    if (game !== undefined) {
      writeVigilL2Key(paths);
      await bitcoin.mine(SERVED_BOND_COINS, vigilBondAddress(watcherSecret));
    }
    await bitcoin.mine(100);
    await driver.prepareSenders(
      workload.inputs.map((i) => i.sender),
      undefined,
      sequencer,
    );
    const first = workload.inputs[0]?.position.block ?? 1n;
    const offset = (await rpc.blockNumber()) + 1n - first;
    record = {
      format: SERVE_FORMAT,
      id: bytesToHex(randomBytes(4)),
      seed,
      epochs,
      epochLength,
      ports: {
        l2: anvil.port,
        bitcoinRpc: Number(new URL(simnet.rpcUrl).port),
        esplora: Number(new URL(simnet.esploraUrl).port),
      },
      l2: {
        chainId: L2_CHAIN_ID,
        startBlock: deployment.startBlock.toString(),
        readyBlock: deployment.readyBlock.toString(),
        offset: offset.toString(),
        addresses: deployment.addresses,
      },
      ...(game === undefined ? {} : { game }),
      createdAt: new Date().toISOString(),
    };
    writeServeRecord(paths, record);
    say(
      `created a devnet in ${paths.root} (seed ${seed}, ${epochs} epochs of ${epochLength} inputs planned)`,
    );
    say(`bitcoin: the watcher's wallet ${watcherAddress} holds ${WATCHER_COINS} mature coins`);
    if (game !== undefined)
      say(
        `bitcoin: Vigil's bond address ${vigilBondAddress(watcherSecret)} holds ${SERVED_BOND_COINS} mature coins`,
      );
  }
  writeWatchConfig(paths, {
    l2Url: anvil.rpcUrl,
    chainId: L2_CHAIN_ID,
    startBlock: deployment.startBlock,
    addresses: deployment.addresses,
    genesis: workload.genesis,
    bitcoinRpcUrl: simnet.rpcUrl,
    bitcoinRpcUser: simnet.rpcAuth.user,
    bitcoinRpcPassword: simnet.rpcAuth.password,
    redisUrl: o.redisUrl,
    keyPrefix: `{vigil-devnet-${record.id}}`,
    httpPort: o.watchHttpPort ?? 9464,
    ...(record.game === undefined ? {} : { challengerRegistry: record.game.registry }),
  });
  say(`L2: anvil at ${anvil.rpcUrl}, contracts from block ${deployment.startBlock}`);
  say(`bitcoin: Core RPC at ${simnet.rpcUrl}, Esplora at ${simnet.esploraUrl}`);
  say(`watch it from another terminal:  vigil watch --config ${paths.watchConfig}`);

  // 4. The operator on Bitcoin, with what it claimed before a restart.
  const control = new ControlWatch(paths, say, record.game !== undefined);
  const operator =
    record.game === undefined
      ? await startServedOperator(o, paths, bitcoin, control, ledger, epochs, workload.genesis)
      : await startServedGame({
          paths,
          record,
          game: record.game,
          l2RpcUrl: anvil.rpcUrl,
          bitcoin,
          market: createFeeMarket(bitcoin),
          watch: control,
          wotsSeed: (claimed) => wotsSeedOf(paths, claimed),
          epochs,
          say,
          ...(o.logger === undefined ? {} : { logger: o.logger }),
        });
  stops.push(async () => operator.close());
  // 5. The two clocks, until interrupted; one failing stops the other.
  const inner = new AbortController();
  const stop = () => inner.abort();
  o.signal.addEventListener('abort', stop, { once: true });
  // Interrupted while it was starting: the listener above came too late to hear it.
  if (o.signal.aborted) inner.abort();
  const clocks = { ...o, signal: inner.signal };
  const commits = new CommitLog(paths);
  stops.push(async () => commits.close());
  const l2 = new L2Side(
    clocks,
    control,
    operator.claimer,
    commits,
    rpc,
    driver,
    sequencer,
    deployment,
    record,
    workload,
  );
  const stopOthersOnFailure = (run: Promise<void>) =>
    run.catch((err: unknown) => {
      inner.abort();
      throw err;
    });
  const results = await Promise.allSettled([
    stopOthersOnFailure(l2.run()),
    stopOthersOnFailure(operator.run({ ...clocks, ready: l2.caughtUp })),
  ]);
  o.signal.removeEventListener('abort', stop);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  say('stopping: saving the chains');
  if (failed) throw failed.reason;
}

function checkResumeOptions(o: ServeOptions, existing: ServeRecord | undefined): void {
  if (!existing) return;
  if (o.game === true && existing.game === undefined) {
    throw new ServeError(
      `The devnet in ${o.dir} was created without --game: its operator claims Part II's graph`,
      {
        metaMessages: ['Leave the flag out to resume it, or serve a new --dir.'],
      },
    );
  }
  for (const [flag, given, kept] of [
    ['--seed', o.seed, existing.seed],
    ['--epochs', o.epochs, existing.epochs],
    ['--epoch-length', o.epochLength, existing.epochLength],
  ] as const) {
    if (given !== undefined && given !== kept) {
      throw new ServeError(`The devnet in ${o.dir} was created with ${flag} ${kept}, not ${given}`, {
        metaMessages: ['Leave the flag out to resume it, or serve a new --dir.'],
      });
    }
  }
}

/**
 * Every L2 block a Bitcoin claim revealed is still on the chain anvil reloaded: a state file older than
 * the claims (anvil killed between two saves) would re-mine those blocks with other hashes. The last
 * claim's block stands for the settled ones before it (the chain holds a block's ancestors); the
 * unsettled ones are checked each.
 */
async function checkClaimedBlocks(rpc: AnvilRpc, ledger: ClaimLedger): Promise<void> {
  const latest = ledger.latest();
  for (const c of [...ledger.open(), ...(latest ? [latest] : [])]) {
    const block = await rpc.request<unknown>('eth_getBlockByHash', [`0x${c.l2BlockHash}`, false]);
    if (block === null || block === undefined) {
      throw new ServeError(
        `anvil's saved state does not hold L2 block 0x${c.l2BlockHash}, which epoch ${c.epoch}'s Bitcoin claim revealed`,
        {
          metaMessages: [
            'anvil-state.json is older than claims.jsonl (anvil was killed between saves); serve a new --dir.',
          ],
        },
      );
    }
  }
}

/** The deployment the record names, checked against the chain anvil reloaded. */
async function resumedDeployment(
  rpc: AnvilRpc,
  r: ServeRecord,
  genesis: Deployment['genesis'],
): Promise<Deployment> {
  const code = await rpc.request<string>('eth_getCode', [r.l2.addresses.stateCommitment, 'latest']);
  if (code === '0x') {
    throw new ServeError(
      `anvil's saved state does not hold the contracts the devnet record names (${r.l2.addresses.stateCommitment})`,
      { metaMessages: ['anvil-state.json is missing or older than serve.json; serve a new --dir.'] },
    );
  }
  return {
    addresses: r.l2.addresses as Deployment['addresses'],
    startBlock: BigInt(r.l2.startBlock),
    readyBlock: BigInt(r.l2.readyBlock),
    genesis,
    deployer: DEVNET_DEPLOYER,
    operator: DEVNET_OPERATOR,
  };
}

/**
 * The L2 clock: the workload's inputs one block per `l2BlockMs` (empty blocks once it is done, so the
 * head keeps moving), and the operator's commitment of every epoch that ends. Each ended epoch's claim
 * goes to the claimer, which hands it to the Bitcoin side (serve-epoch-claimer.ts).
 */
class L2Side {
  private readonly feed: GovernanceIngester;
  private handled = -1n;
  /** Resolves once the chain's epochs up to the head at start are handed over (a restart's catch-up). */
  readonly caughtUp: Promise<void>;
  private markCaughtUp: () => void = () => {};

  constructor(
    private readonly o: ServeOptions,
    private readonly control: ControlWatch,
    private readonly claimer: EpochClaimer,
    private readonly commits: CommitLog,
    private readonly rpc: AnvilRpc,
    private readonly driver: WorkloadDriver,
    private readonly sequencer: RollupSequencer,
    private readonly deployment: Deployment,
    private readonly record: ServeRecord,
    private readonly workload: { inputs: readonly GovernanceInput[]; genesis: Deployment['genesis'] },
  ) {
    this.caughtUp = new Promise((resolve) => {
      this.markCaughtUp = resolve;
    });
    this.feed = createGovernanceIngester({
      rpc: new L2Rpc({ urls: [`http://127.0.0.1:${record.ports.l2}`] }),
      store: new MemoryJournalStore(),
      deployment,
      crossCheck: false,
    });
  }

  async run(): Promise<void> {
    const { signal } = this.o;
    const offset = BigInt(this.record.l2.offset);
    // Before anything is sent: a freshly started anvil automines, and a commitment sent now would mine
    // a block of its own where the workload expects its next input.
    await this.rpc.request('evm_setAutomine', [false]);
    const head = await this.rpc.blockNumber();
    await this.onBlock(head);
    this.markCaughtUp();
    const rest = this.workload.inputs.filter((i) => i.position.block + offset > head);
    try {
      await this.driver.replay(rest, {
        offset,
        prepared: true,
        sequencer: this.sequencer,
        onBlock: async (block) => {
          await this.onBlock(block);
          await pause(this.pace(), signal);
          if (signal.aborted) throw new Aborted();
        },
      });
      if (rest.length > 0)
        this.o.say(`L2: the workload's ${this.record.epochs} epochs are done; empty blocks from now on`);
      while (!signal.aborted) {
        await this.sequencer.beforeBlock();
        await this.rpc.mine(1);
        const block = await this.rpc.blockNumber();
        await this.sequencer.afterBlock(block, [], 0);
        await this.onBlock(block);
        await pause(this.pace(), signal);
      }
    } catch (err) {
      if (!(err instanceof Aborted)) throw err;
    }
  }

  /**
   * Time to the next L2 block: `l2BlockMs`, or a Bitcoin block's while the claims handed over and not on
   * Bitcoin yet are above what the claimer takes (the L2 goes on, its epochs come slower).
   */
  private pace(): number {
    const fast = this.o.l2BlockMs ?? 250;
    return this.claimer.backlog() > this.claimer.maxBacklog
      ? Math.max(fast, this.o.bitcoinBlockMs ?? 1000)
      : fast;
  }

  /** Reads the chain up to `block`; commits and queues every epoch that ended and is not committed yet. */
  private async onBlock(block: bigint): Promise<void> {
    await this.feed.ingester.syncTo(block);
    const { derivation } = this.feed;
    const { epochEnds, commitments } = derivation;
    // Only the ends after the last one handled: a block's work does not grow with the epochs behind it.
    let first = epochEnds.length;
    while (first > 0 && (epochEnds[first - 1] as EpochEnd).epoch > this.handled) first--;
    for (const end of epochEnds.slice(first)) {
      this.handled = end.epoch;
      const committed = commitments.get(end.epoch);
      if (committed !== undefined && this.claimer.has(end.epoch)) continue;
      // An epoch committed before a restart is claimed with the executor it was committed with, whatever
      // the control says now: the L2 commitment and the Bitcoin claim must reveal the same root.
      const recorded = this.commits.get(end.epoch);
      // Recorded and not on the chain (anvil's state saved before the commitment was mined): committed
      // again with the same executor, since the Bitcoin side may have claimed that root already.
      const executor =
        recorded !== undefined
          ? executorNamed(recorded)
          : executorForEpoch(this.control.current(), end.epoch);
      const claim = this.claimer.claim(end, derivation, executor);
      if (committed !== undefined) {
        if (claim.root !== committed.stateRoot.toLowerCase()) {
          this.o.say(
            `L2: epoch ${end.epoch} was committed with a root the operator cannot reproduce; it is not claimed on Bitcoin`,
          );
          continue;
        }
      } else {
        // Written before the commitment is sent, so a restart in between knows what was committed.
        this.commits.set(end.epoch, executor.name);
        await this.commit(end, claim, executor);
      }
      if (!this.claimer.has(end.epoch)) claim.queue();
    }
  }

  /** The operator's commitment, mined with the next L2 block. */
  private async commit(end: EpochEnd, claim: L2EpochClaim, executor: Executor): Promise<void> {
    const { root } = claim;
    await this.rpc.request('eth_sendTransaction', [
      {
        from: DEVNET_OPERATOR,
        to: this.deployment.addresses.stateCommitment,
        data: encodeFunctionData({
          abi: stateCommitmentAbi,
          functionName: 'commit',
          args: [end.epoch, root, placeholderKickoffTxid(end.epoch, root)],
        }),
        gas: '0x1e8480',
      },
    ]);
    this.o.say(
      `L2: epoch ${end.epoch} ended at block ${end.block}; the operator commits ${root.slice(0, 14)}… (${claim.fraud ? `WRONG — ${executor.name}` : 'right'})`,
    );
  }
}

/** The operator on Bitcoin and its clock. */
async function startServedOperator(
  o: ServeOptions,
  paths: ServeDirPaths,
  bitcoin: DevnetBitcoin,
  watch: ControlWatch,
  ledger: ClaimLedger,
  epochs: number,
  genesis: Deployment['genesis'],
): Promise<ServedBitcoinSide> {
  const recorded = ledger.open();
  const resumed = ledger.size > 0;
  await rebroadcastLost(
    bitcoin,
    recorded.flatMap((c) => [
      { epoch: c.epoch, what: 'funding' as const, txid: c.fundingTxid, raw: hexToBytes(c.fundingHex) },
      { epoch: c.epoch, what: 'kick-off' as const, txid: c.kickoffTxid, raw: hexToBytes(c.kickoffHex) },
    ]),
    o.say,
  );
  const control = watch.current();
  const strategy = servedStrategy(control);
  const market = createFeeMarket(bitcoin);
  const operator = await startDevnetOperator({
    bitcoin,
    graphDir: paths.graphs,
    behaviour: behaviourOf(strategy),
    hooks: strategy.hooks(),
    market,
    wotsSeed: wotsSeedOf(paths, resumed),
    // A settled claim needs nothing more: the operator follows only the open ones again.
    ...(resumed
      ? {
          resume: {
            claims: recorded.map(recordedClaim),
            ...(recorded.length > 0 ? { scanFrom: Math.min(...recorded.map((c) => c.scannedAt)) } : {}),
          },
        }
      : { fundFor: epochs }),
    ...(o.logger ? { logger: o.logger } : {}),
  });
  applyMarket(market, strategy);
  if (resumed)
    o.say(`operator: following again the ${recorded.length} of its ${ledger.size} claims not settled yet`);
  o.say(describeControl(control));
  const claimer = part2Claimer(genesis, (epoch) => ledger.has(epoch));
  return {
    claimer,
    run: (clocks) => bitcoinClock(clocks, watch, ledger, bitcoin, operator, market, claimer, control),
    close: () => {},
  };
}

async function bitcoinClock(
  o: { signal: AbortSignal; bitcoinBlockMs?: number; say: Say },
  watch: ControlWatch,
  ledger: ClaimLedger,
  bitcoin: DevnetBitcoin,
  operator: DevnetOperator,
  market: FeeMarket,
  l2: { readonly pending: OperatorEpochClaim[] },
  started: ServeControl,
): Promise<void> {
  const { signal, say } = o;
  let applied = started;
  while (!signal.aborted) {
    const control = watch.current();
    if (control !== applied) {
      applied = control;
      const strategy = servedStrategy(control);
      operator.setStrategy(behaviourOf(strategy), strategy.hooks());
      applyMarket(market, strategy);
      say(`control changed: ${describeControl(control)}`);
    }
    for (const line of await operator.react()) say(`  operator: ${line}`);
    // Every epoch that ended since the last block, up to a bound: the Bitcoin pace (its windows must
    // leave a daemon time to act) does not bound the L2's.
    const scannedAt = await bitcoin.backend.getTipHeight();
    for (let n = 0; n < MAX_CLAIMS_PER_BLOCK; n++) {
      const next = l2.pending[0];
      if (!next) break;
      try {
        const result = await operator.claim(next);
        if ('already' in result) throw new ServeError(`epoch ${next.epoch} is claimed already`);
        const { kickoffTxid } = result;
        ledger.add(servedClaimOf(next, result, scannedAt));
        l2.pending.shift();
        say(`bitcoin: epoch ${next.epoch} claimed, kick-off ${kickoffTxid.slice(0, 12)}…`);
      } catch (err) {
        // Kept first in line and tried again next block: a claim is never silently dropped.
        say(`bitcoin: epoch ${next.epoch} could not be claimed (${errorText(err)}); trying again next block`);
        break;
      }
    }
    await market.mine();
    // What the strategy decided since (never to assert) survives a restart too; so does what is over.
    ledger.markNeverAssert(
      operator
        .claims()
        .filter((c) => c.neverAssert)
        .map((c) => c.epoch),
    );
    ledger.markSettled(operator.forgetSettled());
    await pause(o.bitcoinBlockMs ?? 1000, signal);
  }
}

const behaviourOf = (s: OperatorStrategy): OperatorBehaviour =>
  s.name === 'never-assert' ? 'never-assert' : 'assert';

function applyMarket(market: FeeMarket, s: OperatorStrategy): void {
  market.set(s.market?.floorSatVb, s.market?.estimateSatVb);
}

/** The Winternitz seed of this network's operator: made once, kept in the directory. */
function wotsSeedOf(paths: ServeDirPaths, claimed: boolean): Uint8Array {
  const file = `${paths.root}/operator-wots.seed`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ServeDirError(`The operator's Winternitz seed ${file} cannot be read`, { cause: err });
    }
    // A new seed would rebuild every claimed graph with other keys: the operator could not defend them.
    if (claimed)
      throw new ServeDirError(
        `The operator's Winternitz seed ${file} is missing, and claims were made with it`,
      );
    const seed = randomBytes(32);
    writeSecretFile(file, `${bytesToHex(seed)}\n`);
    return seed;
  }
  // The message never quotes the file: it is a secret.
  if (!/^[0-9a-f]{64}$/.test(text))
    throw new ServeDirError(`The operator's Winternitz seed ${file} is not 64 hex digits`);
  return hexToBytes(text);
}

const hex = (b: Uint8Array): string => bytesToHex(b);

const executorNamed = (name: string): Executor =>
  name === REFERENCE_EXECUTOR.name ? REFERENCE_EXECUTOR : executorByName(name);

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

function servedClaimOf(c: OperatorEpochClaim, r: ClaimResult, scannedAt: number): ServedClaim {
  return {
    epoch: c.epoch.toString(),
    fundingTxid: r.fundingTxid,
    kickoffTxid: r.kickoffTxid,
    fundingHex: hex(r.fundingRaw),
    kickoffHex: hex(r.kickoffRaw),
    stateRoot: hex(c.stateRoot),
    l2BlockHash: hex(c.l2BlockHash),
    referenceRoot: hex(c.referenceRoot),
    checkpoints: c.checkpoints.map(hex),
    challengeWindow: c.challengeWindow,
    scannedAt,
    neverAssert: false,
  };
}

function recordedClaim(c: ServedClaim): RecordedClaim {
  return {
    epoch: BigInt(c.epoch),
    fundingTxid: c.fundingTxid,
    kickoffTxid: c.kickoffTxid,
    stateRoot: hexToBytes(c.stateRoot),
    l2BlockHash: hexToBytes(c.l2BlockHash),
    referenceRoot: hexToBytes(c.referenceRoot),
    checkpoints: c.checkpoints.map((r) => hexToBytes(r)),
    challengeWindow: c.challengeWindow,
    neverAssert: c.neverAssert,
  };
}
