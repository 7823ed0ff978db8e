/**
 * A hostile backend serving real chain data with one thing changed: another transaction, another
 * block, a block padded with a duplicate, a block whose witnesses were swapped. Each is refused as a
 * lie naming what was asked and what came, for both protocols, and the backend keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { BackendLiedError, BackendUnavailableError } from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import type { BitcoinBackend } from '../../../src/bitcoin/backends/types.ts';
import { computeMerkleRoot } from '../../../src/bitcoin/backends/verify.ts';
import { encodeTx, txidBytes } from '../../../src/bitcoin/codec/codec.ts';
import { encodeCompactSize } from '../../../src/bitcoin/compact-size.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import type { ChainBlock } from '../../../src/bitcoin/simnet/types.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, concatBytes } from '../../../src/core/bytes.ts';
import { type Coin, mineCoins, out, P2WSH_TRUE, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';
import { type Hostile, measure, rpcResult, sendText, startHostile } from './hostile-server.ts';

const RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 5_000 };

function blockBytes(header: Uint8Array, txs: readonly Tx[]): Uint8Array {
  return concatBytes(header, encodeCompactSize(txs.length), ...txs.map((t) => encodeTx(t)));
}

describe('backends refuse bytes that do not hash to what was asked', () => {
  let sim: Simnet;
  let server: Hostile;
  /** The honest block (3 transactions: a coinbase and two signed segwit spends) and what the server sends instead. */
  let block: ChainBlock;
  let served: { txHex: string; blockRaw: Uint8Array; headerHash: string };
  let other: ChainBlock;

  beforeAll(async () => {
    sim = await startSimnet();
    const coins = mineCoins(sim.chain, 102);
    for (const c of [coins[0], coins[1]] as Coin[]) {
      sim.chain.accept(spend({ coins: [c], outputs: [out(c.value - 5000n, P2WSH_TRUE)] }).raw);
    }
    block = sim.chain.mine(P2WSH_TRUE);
    other = sim.chain.blockAt(50) as ChainBlock;
    expect(block.txs.length).toBe(3);
    server = await startHostile(({ path, method }, res) => {
      if (method === 'getbestblockhash') return rpcResult(res, `"${block.hash}"`);
      if (method === 'getrawtransaction') return rpcResult(res, JSON.stringify({ hex: served.txHex }));
      if (method === 'getblockheader') {
        const h = {
          hash: served.headerHash,
          height: block.height,
          previousblockhash: block.prevHash,
          time: block.time,
        };
        return rpcResult(res, JSON.stringify(h));
      }
      if (method === 'getblock') return rpcResult(res, `"${bytesToHex(served.blockRaw)}"`);
      if (path === '/blocks/tip/hash') return sendText(res, block.hash, 'text/plain');
      if (path.endsWith('/hex')) return sendText(res, served.txHex, 'text/plain');
      if (path.endsWith('/status')) return sendText(res, '{"confirmed":false}');
      if (path.endsWith('/raw')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return res.end(served.blockRaw);
      }
      const h = {
        id: served.headerHash,
        height: block.height,
        previousblockhash: block.prevHash,
        timestamp: block.time,
      };
      sendText(res, JSON.stringify(h));
    });
  });
  afterAll(async () => {
    await server.close();
    await sim.stop();
  });

  const honest = () => ({
    txHex: bytesToHex((block.txs[1] as ChainBlock['txs'][number]).raw),
    blockRaw: block.raw,
    headerHash: block.hash,
  });
  const backends: { kind: 'core-rpc' | 'esplora'; make: () => BitcoinBackend }[] = [
    {
      kind: 'core-rpc',
      make: () => new CoreRpcBackend({ url: server.url, auth: { user: 'u', password: 'p' }, retry: RETRY }),
    },
    { kind: 'esplora', make: () => new EsploraBackend({ baseUrl: server.url, retry: RETRY }) },
  ];

  async function expectLie(b: BitcoinBackend, call: () => Promise<unknown>, lie: string, message: string) {
    const before = server.requests.length;
    const r = await measure(call);
    expect(r.error).toBeInstanceOf(BackendLiedError);
    // Callers that treat unavailable data as no answer need nothing more.
    expect(r.error).toBeInstanceOf(BackendUnavailableError);
    expect((r.error as BackendLiedError).lie).toBe(lie);
    expect((r.error as BackendLiedError).shortMessage).toBe(
      `Bitcoin backend (${b.kind}) gave a false answer: ${message}`,
    );
    expect(r.ms).toBeLessThan(2000);
    expect(r.heapMiB).toBeLessThan(64);
    // Not retried: at most the requests of one attempt of the method.
    expect(server.requests.length - before).toBeLessThanOrEqual(3);
    expect(await b.getTipHash()).toBe(block.hash);
  }

  it.each(backends)('$kind: accepts the honest block and transaction', async ({ make }) => {
    served = honest();
    const b = make();
    const t = block.txs[1] as ChainBlock['txs'][number];
    expect((await b.getTransaction(t.txid))?.raw).toEqual(t.raw);
    const got = await b.getBlock(block.hash);
    expect(got?.txs.map((x) => x.txid)).toEqual(block.txs.map((x) => x.txid));
    expect(got?.prevHash).toBe(block.prevHash);
    expect(got?.time).toBe(block.time);
  });

  it.each(backends)('$kind: refuses another transaction than the one asked for', async ({ make }) => {
    served = honest();
    const b = make();
    const asked = (block.txs[2] as ChainBlock['txs'][number]).txid;
    const got = (block.txs[1] as ChainBlock['txs'][number]).txid;
    await expectLie(
      b,
      () => b.getTransaction(asked),
      'tx-hash-mismatch',
      `asked for transaction ${asked}, got ${got}`,
    );
  });

  it.each(backends)('$kind: refuses another block than the one asked for', async ({ make }) => {
    served = { ...honest(), blockRaw: other.raw };
    const b = make();
    await expectLie(
      b,
      () => b.getBlock(block.hash),
      'block-hash-mismatch',
      `asked for block ${block.hash}, got ${other.hash}`,
    );
    served = { ...honest(), headerHash: other.hash };
    await expectLie(
      b,
      () => b.getBlockHeader(block.hash),
      'block-hash-mismatch',
      `asked for block ${block.hash}, got ${other.hash}`,
    );
  });

  it.each(backends)('$kind: refuses a block whose transactions are not its merkle root', async ({ make }) => {
    const txs = block.txs.map((t) => t.tx);
    const b = make();
    const header = block.header;
    const committed = bytesToHex(header.subarray(36, 68));
    // One transaction left out: the header (and its hash) is intact, the list is not.
    const dropped = [txs[0], txs[1]] as Tx[];
    served = { ...honest(), blockRaw: blockBytes(header, dropped) };
    const droppedRoot = bytesToHex(computeMerkleRoot(dropped.map((t) => txidBytes(t))).root);
    await expectLie(
      b,
      () => b.getBlock(block.hash),
      'merkle-root-mismatch',
      `block ${block.hash}: its transactions do not match its header (a different merkle root: header ${committed}, transactions ${droppedRoot})`,
    );
    // CVE-2012-2459: three transactions padded with a copy of the last have the same root.
    served = { ...honest(), blockRaw: blockBytes(header, [...txs, txs[2] as Tx]) };
    await expectLie(
      b,
      () => b.getBlock(block.hash),
      'merkle-root-mismatch',
      `block ${block.hash}: its transactions do not match its header (a duplicated transaction: header ${committed}, transactions ${committed})`,
    );
  });

  it.each(backends)('$kind: refuses a block whose witnesses were changed', async ({ make }) => {
    const txs = block.txs.map((t) => structuredClone(t.tx));
    const witness = (txs[1] as Tx).inputs[0]?.witness as Uint8Array[];
    witness[0] = Uint8Array.from(witness[0] as Uint8Array, (x, i) => (i === 10 ? x ^ 1 : x));
    served = { ...honest(), blockRaw: blockBytes(block.header, txs) };
    const b = make();
    await expectLie(
      b,
      () => b.getBlock(block.hash),
      'witness-commitment-mismatch',
      `block ${block.hash}: the witnesses do not match the coinbase witness commitment`,
    );
  });
});
