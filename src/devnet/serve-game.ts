/**
 * `vigil devnet serve --game`: the served devnet whose operator plays the narrowing game (docs/protocol.md
 * §24) instead of Part II's graph. At creation the challenger registry is deployed beside the governance
 * contracts, with windows long enough for a daemon polling the L2 at its pace, and Vigil's bond coins are
 * mined to the bond address its watcher key derives; watch.yaml then names the registry and Vigil's L2
 * key (anvil's dev account #2), so `vigil watch` registers, posts a bundle for each claim that lists it,
 * and plays the games. The operator's side is serve-game-operator.ts, one step per Bitcoin block.
 */
import type { Logger } from 'pino';
import { createPublicClient, createWalletClient, http } from 'viem';
import { addressForScript } from '../bitcoin/codec/address.ts';
import type { DevnetBitcoin } from '../bitcoin/simnet/devnet-bitcoin.ts';
import { parseTxHex, serializeTx, txidHex } from '../bitcoin/tx/serialize.ts';
import { WalletKey } from '../bitcoin/wallet/keys.ts';
import { pause } from '../core/pause.ts';
import { bondCoinScript, challengerIdentity } from '../dispute/game/challenger-identity.ts';
import { claimParameters } from '../dispute/game/claim-parameters.ts';
import { bundleKeyBytes } from '../l2/challenger-registry.ts';
import { type Deployment, deployChallengerRegistry } from '../l2/deploy.ts';
import { DEVNET_DEPLOYER, DEVNET_OPERATOR } from '../l2/devnet.ts';
import type { FeeMarket } from './fee-market.ts';
import { BUNDLE_WINDOW, COMMIT_WINDOW, gameClaimValue } from './game-operator.ts';
import { DEVNET_VIGIL_L2_KEY } from './game-watcher.ts';
import { OperatorFunding } from './operator-funding.ts';
import { devnetOperatorKeys, devnetOperatorSecrets } from './operator-keys.ts';
import { DEVNET_NETWORK, type Say } from './run-context.ts';
import { describeControl } from './serve-control.ts';
import type { ServeDirPaths, ServeRecord } from './serve-dir.ts';
import { type EpochClaimer, gameClaimer } from './serve-epoch-claimer.ts';
import { GameClaimLedger } from './serve-game-ledger.ts';
import { ServedGameOperator } from './serve-game-operator.ts';
import { type ControlWatch, servedGameBehaviour } from './serve-operator-control.ts';
import { rebroadcastLost } from './serve-rebroadcast.ts';
import { writeSecretFile } from './serve-watch-config.ts';

export type ServedRegistry = NonNullable<ServeRecord['game']>;

/** Bond coins mined to Vigil's bond address at creation: one per false claim it may challenge at once. */
export const SERVED_BOND_COINS = 24;

/** Least time a listed challenger has to post its bundle, and the operator to commit after that. */
const BUNDLE_WINDOW_MS = 30_000;
const COMMIT_WINDOW_MS = 120_000;

/**
 * The registry's windows for an L2 of one block per `l2BlockMs`: never shorter than `vigil devnet`'s,
 * and never shorter in time than BUNDLE_WINDOW_MS and COMMIT_WINDOW_MS, so a daemon polling the L2
 * every 250 ms posts in time however fast the L2 runs.
 */
export function registryWindows(l2BlockMs: number): { bundleWindow: bigint; commitWindow: bigint } {
  const blocks = (ms: number, least: bigint) => {
    const n = BigInt(Math.ceil(ms / Math.max(1, l2BlockMs)));
    return n > least ? n : least;
  };
  return {
    bundleWindow: blocks(BUNDLE_WINDOW_MS, BUNDLE_WINDOW),
    commitWindow: blocks(COMMIT_WINDOW_MS, COMMIT_WINDOW),
  };
}

/** At creation (anvil still mines each transaction at once): the challenger registry beside the contracts. */
export async function deployServedRegistry(
  rpcUrl: string,
  deployment: Deployment,
  l2BlockMs: number,
): Promise<ServedRegistry> {
  const transport = http(rpcUrl);
  const params = claimParameters(DEVNET_NETWORK);
  const windows = registryWindows(l2BlockMs);
  const registry = await deployChallengerRegistry({
    publicClient: createPublicClient({ transport }),
    walletClient: createWalletClient({ transport }),
    deployer: DEVNET_DEPLOYER,
    operator: DEVNET_OPERATOR,
    epochManager: deployment.addresses.epochManager,
    staking: deployment.addresses.staking,
    maxChallengers: params.maxChallengers,
    bundleWindow: windows.bundleWindow,
    bundleKeyBytes: bundleKeyBytes(params.shape),
    commitWindow: windows.commitWindow,
  });
  return {
    registry,
    bundleWindow: windows.bundleWindow.toString(),
    commitWindow: windows.commitWindow.toString(),
  };
}

/** The address of the bond coins the daemon with watcher key `watcherSecret` challenges with. */
export function vigilBondAddress(watcherSecret: Uint8Array): string {
  const key = WalletKey.fromBytes(watcherSecret);
  const identity = challengerIdentity((tag) => key.derivedSecret(tag));
  return addressForScript(bondCoinScript(identity), DEVNET_NETWORK) as string;
}

/** Vigil's L2 account key (anvil's dev account #2, a devnet key every anvil prints), mode 0600. */
export function writeVigilL2Key(paths: ServeDirPaths): void {
  writeSecretFile(paths.l2Key, `${DEVNET_VIGIL_L2_KEY.slice(2)}\n`);
}

/** The operator's Bitcoin side of a served devnet, and its clock. */
export type ServedBitcoinSide = {
  readonly claimer: EpochClaimer;
  /**
   * The Bitcoin clock until `signal` aborts. `ready`: the L2 clock has handed over the epochs up to its
   * head at start; no block is mined before (a restart's claims are back in hand before their deadlines move).
   */
  run(clocks: {
    signal: AbortSignal;
    bitcoinBlockMs?: number;
    say: Say;
    ready?: Promise<void>;
  }): Promise<void>;
  close(): void;
};

/**
 * The game operator of the network in `paths`, with the claims it had not ended before a restart (their
 * funding and kick-off sent again if the mempool lost them). `wotsSeed`: the network's, so rebuilt
 * graphs are the graphs it committed.
 */
export async function startServedGame(o: {
  readonly paths: ServeDirPaths;
  readonly record: ServeRecord;
  readonly game: ServedRegistry;
  readonly l2RpcUrl: string;
  readonly bitcoin: DevnetBitcoin;
  readonly market: FeeMarket;
  readonly watch: ControlWatch;
  /** The network's Winternitz seed, given whether claims were made with it. */
  readonly wotsSeed: (claimed: boolean) => Uint8Array;
  /** Claims the workload plans: the operator's funding at creation carries that many. */
  readonly epochs: number;
  readonly say: Say;
  readonly logger?: Logger;
}): Promise<ServedBitcoinSide> {
  const { bitcoin, say } = o;
  const ledger = new GameClaimLedger(o.paths.gameClaims);
  const resumed = ledger.lastFunding() !== undefined;
  await rebroadcastLost(
    bitcoin,
    ledger.openClaims().flatMap((c) =>
      (
        [
          ['funding', c.funded],
          ['kick-off', c.kickoff],
        ] as const
      ).flatMap(([what, hex]) => {
        if (hex === undefined) return [];
        const tx = parseTxHex(hex);
        return [{ epoch: c.epoch, what, txid: txidHex(tx), raw: serializeTx(tx) }];
      }),
    ),
    say,
  );
  const keys = devnetOperatorKeys();
  const secrets = { ...devnetOperatorSecrets(), wotsSeed: o.wotsSeed(resumed) };
  const claimValue = gameClaimValue({ secrets, operator: keys.operator, committee: keys.committee });
  const funding = resumed
    ? await OperatorFunding.reopen(bitcoin, claimValue, secrets, o.logger)
    : await OperatorFunding.open(bitcoin, claimValue, secrets, o.logger, o.epochs);
  const transport = http(o.l2RpcUrl);
  const operator = new ServedGameOperator(
    {
      bitcoin,
      claims: {
        bitcoin,
        l2: {
          pub: createPublicClient({ transport }),
          wallet: createWalletClient({ transport }),
          registry: o.game.registry as `0x${string}`,
          startBlock: BigInt(o.record.l2.startBlock),
        },
        graphDir: o.paths.graphs,
        secrets,
        operator: keys.operator,
        committee: keys.committee,
        bundleWindow: BigInt(o.game.bundleWindow),
        commitWindow: BigInt(o.game.commitWindow),
      },
      ledger,
      funding,
      mineInstead: (tx) => o.market.mineInstead(tx),
      say,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    },
    await bitcoin.backend.getTipHeight(),
  );
  const started = o.watch.current();
  operator.setBehaviour(servedGameBehaviour(started));
  say(
    `L2: the challenger registry at ${o.game.registry} (bundle window ${o.game.bundleWindow} blocks, commit window ${o.game.commitWindow})`,
  );
  if (resumed) say(`operator: following again the ${ledger.openClaims().length} game claims not over yet`);
  say(describeControl(started));
  return {
    claimer: gameClaimer(operator),
    close: () => ledger.close(),
    async run(clocks) {
      if (clocks.ready !== undefined) {
        await Promise.race([
          clocks.ready,
          new Promise((r) => clocks.signal.addEventListener('abort', r, { once: true })),
        ]);
      }
      let applied = started;
      while (!clocks.signal.aborted) {
        const control = o.watch.current();
        if (control !== applied) {
          applied = control;
          operator.setBehaviour(servedGameBehaviour(control));
          say(`control changed: ${describeControl(control)}`);
        }
        const started = Date.now();
        try {
          for (const line of await operator.round(clocks.signal)) say(`  operator: ${line}`);
        } catch (err) {
          // A backend that did not answer: the next block's round reads the chain again.
          say(
            `  operator: this block's round failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); trying again next block`,
          );
          o.logger?.debug({ err }, 'served game operator round failed');
        }
        await o.market.mine();
        // One block per `bitcoinBlockMs` however long the round took (building a claim takes a second).
        await pause(Math.max(0, (clocks.bitcoinBlockMs ?? 1000) - (Date.now() - started)), clocks.signal);
      }
    },
  };
}
