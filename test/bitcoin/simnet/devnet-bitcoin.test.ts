/**
 * `vigil devnet --bitcoin-rpc <url>`: the external-node path. No Bitcoin Core can be installed here,
 * so simnet's RPC front stands in for the external node (reached by URL with credentials, exactly as a
 * user's bitcoind would be); the code path is the one real Core gets.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '../../../src/bitcoin/backends/errors.ts';
import {
  connectDevnetBitcoin,
  type DevnetBitcoin,
  NotRegtestError,
} from '../../../src/bitcoin/simnet/devnet-bitcoin.ts';
import { startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { WatcherWallet } from '../../../src/bitcoin/wallet/wallet.ts';
import { KEY, P2WSH_TRUE } from '../../../testkit/bitcoin/simnet/fixture.ts';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

async function external(): Promise<DevnetBitcoin> {
  const node = await startSimnet();
  stops.push(node.stop);
  const url = new URL(node.rpcUrl);
  url.username = node.rpcAuth.user;
  url.password = node.rpcAuth.password;
  const devnet = await connectDevnetBitcoin({ bitcoinRpc: url.toString() });
  expect(devnet.simnet).toBeUndefined();
  return devnet;
}

async function inProcess(): Promise<DevnetBitcoin> {
  const devnet = await connectDevnetBitcoin();
  stops.push(devnet.stop);
  expect(devnet.simnet).toBeDefined();
  return devnet;
}

describe.each([
  { name: 'external node (--bitcoin-rpc)', connect: external },
  { name: 'in-process simnet', connect: inProcess },
])('devnet bitcoin: $name', ({ connect }) => {
  it('funds a wallet with a mature coinbase through generatetoaddress and the wallet spends it', async () => {
    const devnet = await connect();
    const wallet = new WatcherWallet({
      backend: devnet.backend,
      key: KEY,
      kind: 'p2tr',
      network: 'regtest',
      reserve: 0n,
    });
    await devnet.fund(wallet.address);
    await wallet.refresh();
    expect(wallet.balance).toBe(5_000_000_000n);
    // One more block to the wallet: that coinbase is immature and must not be counted.
    await devnet.mine(1, wallet.address);
    await wallet.refresh();
    expect(wallet.balance).toBe(5_000_000_000n);
    const p = await wallet.pay({
      outputs: [{ value: 100_000_000n, script: P2WSH_TRUE }],
      feeRate: { satPerKvb: 2_000n },
    });
    const [hash] = await devnet.mine(1);
    expect((await devnet.backend.getTxStatus(p.txid))?.confirmed).toBe(true);
    expect((await devnet.backend.getBlock(hash as string))?.txs.map((t) => t.txid)).toContain(p.txid);
  });
});

it('refuses an external node that is not on regtest, and reports an unreachable one as unavailable', async () => {
  // A node that says it is on mainnet: the devnet must never mine or fund there.
  const server = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ result: { chain: 'main' }, error: null, id: 1 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const refused = connectDevnetBitcoin({ bitcoinRpc: `http://u:s3cret-pw@127.0.0.1:${port}` });
  await expect(refused).rejects.toBeInstanceOf(NotRegtestError);
  // The URL is named, its password never.
  await expect(refused).rejects.toThrow(/http:\/\/u:redacted@127\.0\.0\.1:\d+\/? is on "main"/);
  await expect(refused.catch((e: Error) => e.message)).resolves.not.toContain('s3cret-pw');
  await expect(
    connectDevnetBitcoin({
      bitcoinRpc: 'http://127.0.0.1:1',
      retry: { attempts: 2, baseDelayMs: 1, timeoutMs: 500 },
    }),
  ).rejects.toBeInstanceOf(BackendUnavailableError);
});
