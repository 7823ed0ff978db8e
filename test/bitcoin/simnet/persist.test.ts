/**
 * simnet's state directory: a simnet stopped and started again from the same directory has the same
 * chain (blocks, hashes, UTXO set), mempool, RPC credentials and ports; recorded blocks are checked as
 * ConnectBlock would, so a tampered one is refused; a torn last line is a crash and is cut off.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoreRpcClient } from '../../../src/bitcoin/backends/core-rpc-client.ts';
import { encodeTx, txidBytes } from '../../../src/bitcoin/codec/codec.ts';
import {
  blockSubsidy,
  buildCoinbase,
  buildHeader,
  merkleRoot,
  serializeBlock,
} from '../../../src/bitcoin/simnet/block-builder.ts';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { SimnetPortError } from '../../../src/bitcoin/simnet/http-front.ts';
import { BLOCKS_FILE, MEMPOOL_FILE, STATE_FILE } from '../../../src/bitcoin/simnet/persist.ts';
import { startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { type ChainBlock, SimChainError } from '../../../src/bitcoin/simnet/types.ts';
import type { Tx } from '../../../src/bitcoin/tx/types.ts';
import { bytesToHex, hexToBytes } from '../../../src/core/bytes.ts';
import {
  ADDRESS,
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-simnet-state-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const flip = (bytes: Uint8Array, i: number): void => {
  bytes[i] = (bytes[i] as number) ^ 1;
};

const blockLines = (dir: string): string[] => readFileSync(join(dir, BLOCKS_FILE), 'utf8').split('\n');

/** A block on `chain`'s tip with exactly `txs`, a coinbase paying `coinbaseValue` (default subsidy + `fees`). */
function forgeBlock(chain: SimChain, txs: Tx[], fees: bigint, coinbaseValue?: bigint): Uint8Array {
  const height = chain.height + 1;
  const coinbase = buildCoinbase(height, P2WPKH, coinbaseValue ?? blockSubsidy(height) + fees, txs, 999);
  const all = [coinbase, ...txs];
  const prev = hexToBytes(chain.tip.hash).reverse();
  const { header } = buildHeader(prev, merkleRoot(all.map((t) => txidBytes(t))), chain.tip.time + 1);
  return serializeBlock(header, all);
}

describe('simnet state directory (stateDir)', () => {
  it('restarts with the same tip, UTXO set, mempool, ports and credentials, and keeps mining new blocks', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    expect(sim.restored).toBeUndefined();
    const coins = mineCoins(sim.chain, 104);
    const [c0, c1, c2, c3] = coins as [Coin, Coin, Coin, Coin];
    // A block with a parent and its child (mempool path), then one by generateblock.
    const parent = spend({ coins: [c0], outputs: [out(c0.value - 1000n, P2WSH_TRUE)] });
    const child = spend({ coins: [coinOf(parent)], outputs: [out(c0.value - 3000n)] });
    sim.chain.accept(parent.raw);
    sim.chain.accept(child.raw);
    expect(sim.chain.mine(P2WPKH).txs).toHaveLength(3);
    const given = spend({ coins: [c1], outputs: [out(c1.value - 5000n)] });
    sim.chain.mine(P2WPKH, [given.tx]);
    // Left in the mempool: a chain of two and a lone one.
    const m1 = spend({ coins: [c2], outputs: [out(c2.value - 1000n, P2WSH_TRUE)] });
    const m2 = spend({ coins: [coinOf(m1)], outputs: [out(c2.value - 2000n)] });
    const m3 = spend({ coins: [c3], outputs: [out(c3.value - 700n)] });
    for (const t of [m1, m2, m3]) sim.chain.accept(t.raw);

    const before = {
      tip: sim.chain.tip.hash,
      height: sim.chain.height,
      utxos: sim.chain.utxoSetInfo(),
      mempool: sim.chain.mempool.ordered().map((e) => e.txid),
    };
    const urls = { rpc: sim.rpcUrl, esplora: sim.esploraUrl, auth: sim.rpcAuth };
    const coinbases = new Set(
      Array.from({ length: sim.chain.height }, (_, h) => sim.chain.blockAt(h + 1)?.txs[0]?.txid),
    );
    await sim.stop();

    const again = await startSimnet({ stateDir: dir });
    try {
      expect(again.restored).toEqual({ blocks: before.height, mempool: 3, dropped: [], tornTail: false });
      expect(again.chain.tip.hash).toBe(before.tip);
      expect(again.chain.height).toBe(before.height);
      expect(again.chain.utxoSetInfo()).toEqual(before.utxos);
      expect(again.chain.mempool.ordered().map((e) => e.txid)).toEqual(before.mempool);
      expect([again.rpcUrl, again.esploraUrl, again.rpcAuth]).toEqual([urls.rpc, urls.esplora, urls.auth]);
      const rpc = new CoreRpcClient({ url: again.rpcUrl, auth: urls.auth, retry: { attempts: 1 } });
      expect(await rpc.call('getbestblockhash')).toBe(before.tip);
      const tipRes = await fetch(`${again.esploraUrl}/blocks/tip/hash`);
      expect(await tipRes.text()).toBe(before.tip);

      // New blocks: valid (they take the restored mempool), new coinbases.
      const next = again.chain.mine(P2WPKH);
      expect(next.prevHash).toBe(before.tip);
      expect(next.txs.slice(1).map((t) => t.txid)).toEqual(before.mempool);
      expect(coinbases.has(next.txs[0]?.txid)).toBe(false);
      const [viaRpc] = await rpc.call<string[]>('generatetoaddress', [1, ADDRESS]);
      expect(again.chain.tip.hash).toBe(viaRpc);
    } finally {
      await again.stop();
    }
    const third = await startSimnet({ stateDir: dir });
    try {
      expect(third.chain.height).toBe(before.height + 2);
      expect(third.chain.mempool.size).toBe(0);
    } finally {
      await third.stop();
    }
  });

  it('follows disconnections: a block invalidated after a restart is gone from the file, and the re-mined one has a new coinbase', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    sim.chain.mine(P2WPKH);
    const first = sim.chain.tip;
    sim.chain.mine(P2WPKH);
    await sim.stop();

    const again = await startSimnet({ stateDir: dir });
    again.chain.invalidateBlock(first.hash);
    expect(again.chain.height).toBe(0);
    expect(blockLines(dir)).toEqual(['']);
    // Same height, same payout, same (empty) contents: only the extra nonce tells the coinbases apart.
    const remined = again.chain.mine(P2WPKH);
    expect(remined.height).toBe(1);
    expect(remined.txs[0]?.txid).not.toBe(first.txs[0]?.txid);
    again.chain.mine(P2WPKH);
    const tip = again.chain.tip.hash;
    await again.stop();

    const third = await startSimnet({ stateDir: dir });
    try {
      expect(third.chain.height).toBe(2);
      expect(third.chain.tip.hash).toBe(tip);
    } finally {
      await third.stop();
    }
  });

  it('restores a few hundred blocks', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    const coins = mineCoins(sim.chain, 300);
    for (const c of coins.slice(0, 20)) {
      sim.chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)] }).raw);
      sim.chain.mine(P2WPKH);
    }
    const tip = sim.chain.tip.hash;
    const utxos = sim.chain.utxoSetInfo();
    await sim.stop();
    const again = await startSimnet({ stateDir: dir });
    try {
      expect(again.restored?.blocks).toBe(320);
      expect(again.chain.tip.hash).toBe(tip);
      expect(again.chain.utxoSetInfo()).toEqual(utxos);
    } finally {
      await again.stop();
    }
  });

  it('ignores a torn last line (a crash during an append) and cuts it off', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    mineCoins(sim.chain, 5);
    const atFour = sim.chain.blockAt(4)?.hash;
    await sim.stop();
    // The fifth block's line, half written.
    const text = readFileSync(join(dir, BLOCKS_FILE), 'utf8');
    const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
    writeFileSync(join(dir, BLOCKS_FILE), text.slice(0, lastStart + 200));

    const again = await startSimnet({ stateDir: dir });
    expect(again.restored?.tornTail).toBe(true);
    expect(again.chain.height).toBe(4);
    expect(again.chain.tip.hash).toBe(atFour);
    again.chain.mine(P2WPKH);
    const tip = again.chain.tip.hash;
    await again.stop();
    const third = await startSimnet({ stateDir: dir });
    try {
      expect(third.restored?.tornTail).toBe(false);
      expect(third.chain.tip.hash).toBe(tip);
    } finally {
      await third.stop();
    }
  });

  it.each([
    [
      'a changed transaction byte',
      (line: string) => {
        // The top byte of the spend's locktime (the block's last bytes): the merkle root no longer matches.
        const [h, hash, hex] = line.split(' ') as [string, string, string];
        const i = hex.length - 2;
        return `${h} ${hash} ${hex.slice(0, i)}${hex[i] === '0' ? '1' : '0'}${hex.slice(i + 1)}`;
      },
      /line 102: recorded block [0-9a-f]{64} \(height 102\) refused: bad-txnmrklroot/,
    ],
    [
      'a header that does not hash to the recorded hash',
      (line: string) =>
        line.replace(/^(\d+ [0-9a-f]{64} [0-9a-f]{8})(.)/, (_, a, c) => `${a}${c === '0' ? '1' : '0'}`),
      /line 102: the block's header hashes to/,
    ],
    [
      'a malformed line',
      (line: string) => line.slice(0, 40),
      /line 102: not `<height> <hash> <raw block hex>`/,
    ],
  ] as const)('refuses %s in the blocks file, naming the file and line', async (_name, tamper, message) => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    const [c0] = mineCoins(sim.chain, 101) as [Coin];
    sim.chain.accept(spend({ coins: [c0], outputs: [out(c0.value - 1000n)] }).raw);
    sim.chain.mine(P2WPKH);
    sim.chain.mine(P2WPKH);
    await sim.stop();
    const lines = blockLines(dir);
    lines[101] = tamper(lines[101] as string);
    writeFileSync(join(dir, BLOCKS_FILE), lines.join('\n'));
    const err = await startSimnet({ stateDir: dir }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('SimnetStateError');
    expect((err as Error).message).toContain(join(dir, BLOCKS_FILE));
    expect((err as Error).message).toMatch(message);
    // The directory was released: once repaired it opens.
    writeFileSync(join(dir, BLOCKS_FILE), `${lines.slice(0, 101).join('\n')}\n`);
    const repaired = await startSimnet({ stateDir: dir });
    expect(repaired.chain.height).toBe(101);
    await repaired.stop();
  });

  it('refuses a state file of another format version, and a mempool file too', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    await sim.stop();
    const file = join(dir, STATE_FILE);
    const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...record, version: 2 }));
    await expect(startSimnet({ stateDir: dir })).rejects.toThrow(
      /simnet\.json has format version 2; this Vigil reads version 1 only/,
    );
    writeFileSync(file, JSON.stringify(record));
    writeFileSync(join(dir, MEMPOOL_FILE), JSON.stringify({ version: 7, txs: [] }));
    await expect(startSimnet({ stateDir: dir })).rejects.toThrow(/mempool\.json has format version 7/);
  });

  it('drops a saved mempool transaction that is no longer valid, and says so', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    const [c0, c1] = mineCoins(sim.chain, 102) as [Coin, Coin];
    const kept = spend({ coins: [c1], outputs: [out(c1.value - 1000n)] });
    sim.chain.accept(kept.raw);
    sim.chain.mine(P2WPKH, [spend({ coins: [c0], outputs: [out(c0.value - 1000n)] }).tx]);
    await sim.stop();
    // A double spend of the mined coin, as if saved before the block.
    const stale = spend({ coins: [c0], outputs: [out(c0.value - 2000n)] });
    const file = join(dir, MEMPOOL_FILE);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { txs: string[] };
    writeFileSync(file, JSON.stringify({ ...saved, txs: [bytesToHex(stale.raw), ...saved.txs] }));
    const again = await startSimnet({ stateDir: dir });
    try {
      expect(again.restored?.dropped).toEqual([
        { txid: stale.txid, reason: 'bad-txns-inputs-missingorspent' },
      ]);
      expect([...again.chain.mempool.entries.keys()]).toEqual([kept.txid]);
    } finally {
      await again.stop();
    }
  });

  it('refuses a second open of the same directory, and a fixed port in use (naming it)', async () => {
    const dir = tempDir();
    const sim = await startSimnet({ stateDir: dir });
    await expect(startSimnet({ stateDir: dir })).rejects.toThrow(/already open in this process/);
    await sim.stop();

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startSimnet({ stateDir: dir, esploraPort: port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimnetPortError);
      expect((err as Error).message).toContain(`port ${port} on 127.0.0.1 is in use`);
      await expect(startSimnet({ rpcPort: port })).rejects.toThrow(`simnet rpc front: port ${port}`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    // The failed starts released the directory and kept the recorded ports.
    const again = await startSimnet({ stateDir: dir });
    expect(again.rpcUrl).toBe(sim.rpcUrl);
    await again.stop();
  });
});

describe('SimChain.restoreBlock', () => {
  /** A source chain with a spend in block 102, and a fresh chain holding its first 101 blocks. */
  function setup(): { source: SimChain; target: SimChain; coin: Coin } {
    const source = new SimChain();
    const [c0, c1] = mineCoins(source, 102) as [Coin, Coin];
    source.accept(spend({ coins: [c0], outputs: [out(c0.value - 1000n)] }).raw);
    source.mine(P2WPKH);
    const target = new SimChain();
    for (let h = 1; h <= 102; h++) target.restoreBlock(source.blockAt(h)?.raw as Uint8Array);
    return { source, target, coin: c1 };
  }

  it('connects recorded blocks byte for byte', () => {
    const { source, target } = setup();
    const b = target.restoreBlock(source.blockAt(103)?.raw as Uint8Array);
    expect(b.hash).toBe(source.tip.hash);
    expect(bytesToHex(b.raw)).toBe(bytesToHex(source.tip.raw));
    expect(target.utxoSetInfo()).toEqual(source.utxoSetInfo());
  });

  it('refuses a block whose parent is not the tip', () => {
    const source = new SimChain();
    mineCoins(source, 2);
    const target = new SimChain();
    expect(() => target.restoreBlock(source.blockAt(2)?.raw as Uint8Array)).toThrow(
      /refused: prev-blk-not-tip/,
    );
    expect(target.height).toBe(0);
  });

  it('refuses a changed transaction byte (merkle root), and a changed witness byte (commitment)', () => {
    const { source, target } = setup();
    const block = source.blockAt(103) as ChainBlock;
    const raw = block.raw;
    const tx = (block.txs[1] as ChainBlock['txs'][number]).raw;
    const at = Buffer.from(raw).indexOf(Buffer.from(tx));
    // version, segwit marker and flag, one input (32 + 4 + 1 + 4), the output count: the output's value.
    const valueByte = raw.slice();
    flip(valueByte, at + 4 + 2 + 1 + 41 + 1);
    expect(() => target.restoreBlock(valueByte)).toThrow(SimChainError);
    expect(() => target.restoreBlock(valueByte)).toThrow(/refused: bad-txnmrklroot/);
    // Before the locktime (4), the public key and its length (34): the signature.
    const witnessByte = raw.slice();
    flip(witnessByte, at + tx.length - 4 - 34 - 10);
    expect(() => target.restoreBlock(witnessByte)).toThrow(/bad-witness-merkle-match/);
    expect(target.height).toBe(102);
  });

  it.each([
    ['a bad merkle root with valid work', 'root', /refused: bad-txnmrklroot/],
    ['a coinbase paying more than subsidy + fees', 'overpay', /refused: bad-cb-amount/],
    ['a transaction with a bad signature', 'badsig', /refused: mandatory-script-verify-flag-failed/],
    ['a spend of a missing coin', 'missing', /refused: bad-txns-inputs-missingorspent/],
  ] as const)('refuses a forged block with %s', (_name, kind, message) => {
    const { target, coin } = setup();
    let raw: Uint8Array;
    if (kind === 'root') {
      raw = forgeBlock(target, [], 0n);
      flip(raw, 40);
      const { header } = buildHeader(raw.slice(4, 36), raw.slice(36, 68), target.tip.time + 1);
      raw.set(header, 0);
    } else if (kind === 'overpay') {
      raw = forgeBlock(target, [], 0n, blockSubsidy(target.height + 1) + 1n);
    } else if (kind === 'badsig') {
      const t = spend({ coins: [coin], outputs: [out(coin.value - 1000n)], badSig: true });
      raw = forgeBlock(target, [t.tx], 1000n);
    } else {
      const t = spend({ coins: [{ ...coin, txid: '11'.repeat(32) }], outputs: [out(coin.value - 1000n)] });
      raw = forgeBlock(target, [t.tx], 1000n);
    }
    const before = target.utxoSetInfo();
    expect(() => target.restoreBlock(raw)).toThrow(message);
    expect(target.height).toBe(102);
    expect(target.utxoSetInfo()).toEqual(before);
  });

  it('accepts a well-forged block (the forging helper is honest)', () => {
    const { target, coin } = setup();
    const t = spend({ coins: [coin], outputs: [out(coin.value - 1000n)] });
    const b = target.restoreBlock(forgeBlock(target, [t.tx], 1000n));
    expect(b.txs[1]?.raw).toEqual(encodeTx(t.tx));
  });
});
