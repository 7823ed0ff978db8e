/**
 * Starts anvil from the npm package `@foundry-rs/anvil` on a free loopback port and makes sure it never
 * outlives us: it runs under a tiny shell guard that holds a pipe from this process and kills anvil when
 * the pipe closes (our exit, crash or SIGKILL), and `stop()` is wired to exit, SIGINT and SIGTERM.
 *
 * Each anvil has a HOME of its own in a temporary directory, deleted by the guard once anvil has exited:
 * anvil keeps the historical states beyond its memory window in `$HOME/.foundry/anvil/tmp` and deletes
 * them only on a clean exit, so every killed instance used to leave its states behind (a long run, gigabytes;
 * this machine's disk once filled with 79 GB of them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VigilError } from '../core/errors.ts';

export class AnvilError extends VigilError {
  override name = 'AnvilError';
}

export type AnvilOptions = {
  /** Seconds between automatically mined blocks; undefined = automine (a block per transaction). */
  blockTime?: number;
  chainId?: number;
  /** Number of funded dev accounts (anvil's default mnemonic). */
  accounts?: number;
  /** Balance of each dev account, in ether. */
  balanceEther?: number;
  gasLimit?: bigint;
  /** Milliseconds to wait for "Listening on". */
  startTimeoutMs?: number;
  /**
   * Historical states anvil keeps (on disk beyond its in-memory window). The epoch-end cross-check reads
   * state at past blocks, so the default keeps far more than anvil's own.
   */
  maxPersistedStates?: number;
  /**
   * Keep at most this many historical states, in memory, and none on disk (anvil's `--prune-history`;
   * replaces `maxPersistedStates`). Reads of older blocks' state fail.
   */
  pruneHistory?: number;
  /** Transaction ordering in a block: 'fifo' (default: arrival order, as the devnet driver needs) or 'fees'. */
  order?: 'fifo' | 'fees';
  /**
   * The owner stops this instance itself on SIGINT/SIGTERM (anvil dumps its `--state` on a clean exit);
   * default: killed at once on either signal.
   */
  stopOnSignalByOwner?: boolean;
  /** A fixed loopback port (default: any free one). */
  port?: number;
  /** How long `stop()` waits for anvil to exit before killing it (default 3 s; dumping a large state takes longer). */
  stopTimeoutMs?: number;
  /** Extra raw arguments. */
  args?: readonly string[];
};

export type AnvilInstance = {
  rpcUrl: string;
  port: number;
  /** The anvil process id (not the guard's). */
  pid: number;
  /** The anvil's own HOME (its on-disk states): deleted once it has exited. */
  home: string;
  stop: () => Promise<void>;
  /** Resolves when anvil has exited, for any reason. */
  exited: Promise<void>;
};

const PLATFORM_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** The anvil binary of the platform package that `@foundry-rs/anvil` installs as an optional dependency. */
export function resolveAnvilBinary(): string {
  const override = process.env.VIGIL_ANVIL_BIN;
  if (override) return override;
  const arch = PLATFORM_ARCH[process.arch];
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`;
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${pkg}/package.json`);
  } catch (cause) {
    throw new AnvilError('anvil is not installed for this platform', {
      cause,
      metaMessages: [`Looked for the npm package ${pkg} (installed with @foundry-rs/anvil).`],
    });
  }
  const bin = join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(bin)) throw new AnvilError('anvil binary missing', { metaMessages: [`Expected ${bin}`] });
  return bin;
}

// The guard: anvil in the background with stdin from /dev/null; a reader on *our* pipe (saved as fd 3,
// since background jobs get /dev/null as stdin) kills anvil at EOF, i.e. when the parent is gone.
const GUARD = [
  'home="$1"; bin="$2"; shift 2',
  '"$bin" "$@" </dev/null &',
  'pid=$!',
  'echo "anvil-pid $pid"',
  // Once the parent is gone our pipes are closed, and dash reports a killed job ("Killed") on stderr: the
  // write would end the guard by SIGPIPE before it deletes the HOME.
  "trap '' PIPE",
  'exec 2>/dev/null',
  'exec 3<&0',
  '{ cat <&3 >/dev/null; kill $pid 2>/dev/null; } &',
  "trap 'kill $pid 2>/dev/null' TERM INT HUP",
  // A trapped signal ends `wait` at once: the guard exits only once anvil has (it may be saving --state).
  'code=0',
  'while kill -0 $pid 2>/dev/null; do wait $pid; code=$?; done',
  'rm -rf "$home"',
  'exit $code',
].join('\n');

const live = new Set<AnvilInstance>();
const graceful = new WeakSet<AnvilInstance>();
let hooksInstalled = false;

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const a of live) killGroup(a.pid);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // First in line, so the count below still sees a handler registered before this hook (the CLI's):
    // a `once` handler that ran before it would already be gone, and the re-raise would kill the process
    // before that handler's cleanup (the devnet's Redis keys) could run.
    process.prependOnceListener(sig, () => {
      // An instance its owner stops on the signal (to let anvil save its state) is left to it.
      const owned = [...live].filter((a) => graceful.has(a));
      for (const a of live) if (!graceful.has(a)) killGroup(a.pid);
      // Re-raise with the default behaviour so the exit status says what happened, unless someone else
      // (the CLI) handles the signal too.
      if (owned.length === 0 && process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const bin = resolveAnvilBinary();
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0)];
  args.push('--chain-id', String(options.chainId ?? 31337));
  args.push('--accounts', String(options.accounts ?? 10));
  args.push('--balance', String(options.balanceEther ?? 1_000_000));
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.gasLimit !== undefined) args.push('--gas-limit', options.gasLimit.toString());
  if (options.pruneHistory !== undefined) args.push('--prune-history', String(options.pruneHistory));
  else args.push('--max-persisted-states', String(options.maxPersistedStates ?? 1_000_000));
  args.push('--order', options.order ?? 'fifo', '--no-request-size-limit', '--disable-console-log');
  if (options.args) args.push(...options.args);

  // Its own process group: a Ctrl-C in a terminal reaches Vigil, which stops anvil in its own time
  // (the pipe still ends it when Vigil dies).
  const home = mkdtempSync(join(tmpdir(), 'vigil-anvil-home-'));
  const guard: ChildProcess = spawn('/bin/sh', ['-c', GUARD, 'anvil-guard', home, bin, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, HOME: home },
  });
  // The guard deletes it after anvil; this covers a guard that was killed too.
  const removeHome = () => rmSync(home, { recursive: true, force: true });
  guard.once('exit', removeHome);
  installProcessHooks();

  let output = '';
  const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
  const ready = new Promise<{ port: number; pid: number }>((resolve, reject) => {
    let pid = 0;
    const timer = setTimeout(
      () => reject(new AnvilError('anvil did not start in time', { metaMessages: [output.slice(-2000)] })),
      options.startTimeoutMs ?? 20_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const p = /anvil-pid (\d+)/.exec(output);
      if (p) pid = Number(p[1]);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m && pid) {
        clearTimeout(timer);
        guard.stdout?.off('data', onData);
        guard.stdout?.resume();
        resolve({ port: Number(m[1]), pid });
      }
    };
    guard.stdout?.on('data', onData);
    guard.stderr?.on('data', (c: Buffer) => {
      output += c.toString('utf8');
    });
    guard.once('exit', (code) => {
      clearTimeout(timer);
      reject(new AnvilError(`anvil exited before it was ready (code ${code})`, { metaMessages: [output] }));
    });
  });
  const { port, pid } = await ready;

  let stopping: Promise<void> | undefined;
  const instance: AnvilInstance = {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    pid,
    home,
    exited,
    stop: () => {
      stopping ??= (async () => {
        live.delete(instance);
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
        guard.stdin?.end();
        const timeout = new Promise<'timeout'>((r) =>
          setTimeout(() => r('timeout'), options.stopTimeoutMs ?? 3000).unref(),
        );
        if ((await Promise.race([exited.then(() => 'done' as const), timeout])) === 'timeout') {
          killGroup(pid);
          if (guard.pid) killGroup(guard.pid);
        }
      })();
      return stopping;
    },
  };
  live.add(instance);
  if (options.stopOnSignalByOwner) graceful.add(instance);
  return instance;
}
