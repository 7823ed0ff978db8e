/**
 * `vigil wallet address | balance`: what to fund, from the configured key, and whether the chain holds
 * enough for the next challenge (issue #19). Against the simnet's Core-RPC front.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressForScript } from '../../src/bitcoin/codec/address.ts';
import { type Simnet, startSimnet } from '../../src/bitcoin/simnet/start.ts';
import { WalletKey } from '../../src/bitcoin/wallet/keys.ts';
import { watcherWalletAddress, watcherWalletScript } from '../../src/bitcoin/wallet/watcher-address.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { bytesToHex, utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/hashes.ts';
import { mineCoins, out, spend } from '../../testkit/bitcoin/simnet/fixture.ts';
import { runCli } from './run-cli.ts';

const SECRET = sha256(utf8('vigil wallet cli test key'));
let sim: Simnet;
let dir: string;
let env: Record<string, string>;
let keyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-wallet-'));
  keyFile = join(dir, 'watcher.key');
  writeFileSync(keyFile, bytesToHex(SECRET));
  chmodSync(keyFile, 0o600);
  sim = await startSimnet();
  env = {
    VIGIL_BITCOIN_URL: sim.rpcUrl,
    VIGIL_BITCOIN_AUTH_USER: sim.rpcAuth.user,
    VIGIL_BITCOIN_AUTH_PASSWORD_ENV: 'SIM_PW',
    SIM_PW: sim.rpcAuth.password,
    VIGIL_KEYS_WATCHER_FILE: keyFile,
  };
});
afterAll(async () => {
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('vigil wallet', () => {
  it('address: the P2TR the watcher spends from, for the configured network', async () => {
    const key = WalletKey.fromBytes(SECRET);
    const expected = addressForScript(watcherWalletScript(key), 'regtest');
    expect(expected).toMatch(/^bcrt1p/);
    const r = await runCli(['wallet', 'address'], { env });
    expect(r.code, r.stderr).toBe(ExitCode.Ok);
    expect(r.stdout).toBe(`${expected}\n`);
    const main = await runCli(['wallet', 'address', '--bitcoin-network', 'mainnet'], { env });
    expect(main.stdout).toBe(`${watcherWalletAddress(key, 'mainnet')}\n`);
    expect(main.stdout).toMatch(/^bc1p/);
    expect(r.stdout + r.stderr + main.stdout + main.stderr).not.toContain(bytesToHex(SECRET));
  });

  it('balance: short (exit 1, how much to fund), then enough once the address is paid (exit 0)', async () => {
    const short = await runCli(['wallet', 'balance', '--json'], { env });
    expect(short.code, short.stderr).toBe(1);
    const before = JSON.parse(short.stdout) as { spendable: string; required: string; enough: boolean };
    expect(before).toMatchObject({ spendable: '0', enough: false });
    const required = BigInt(before.required);
    expect(required).toBeGreaterThan(0n);
    // Pay the watcher address more than it needs, and confirm it.
    const [coin] = mineCoins(sim.chain, 1);
    for (let i = 0; i < 100; i++) sim.chain.mine(out(0n, Uint8Array.from([0x51])).script);
    const script = watcherWalletScript(WalletKey.fromBytes(SECRET));
    const pay = spend({
      coins: [coin as NonNullable<typeof coin>],
      outputs: [out(required + 1000n, script), out((coin?.value as bigint) - required - 1000n - 10_000n)],
    });
    sim.chain.acceptTx(pay.tx);
    sim.chain.mine(out(0n, Uint8Array.from([0x51])).script);
    const enough = await runCli(['wallet', 'balance'], { env });
    expect(enough.code, enough.stderr).toBe(0);
    expect(enough.stdout).toContain('enough to send the next challenge');
    expect(enough.stdout).toContain(`${required + 1000n} confirmed and mature`);
  }, 60_000);

  it('no keys.watcher: exit 3 saying what to set', async () => {
    const { VIGIL_KEYS_WATCHER_FILE: _, ...without } = env;
    const r = await runCli(['wallet', 'address'], { env: without });
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr).toContain('keys.watcher is not set');
  });
});
