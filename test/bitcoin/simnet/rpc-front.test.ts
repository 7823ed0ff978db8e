/** simnet's Core RPC front: result shapes and errors as Core gives them, and time-based relative locks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcClient, CoreRpcError } from '../../../src/bitcoin/backends/core-rpc-client.ts';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { TxReject } from '../../../src/bitcoin/simnet/rules.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import {
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

describe('simnet RPC front', () => {
  let sim: Simnet;
  let rpc: CoreRpcClient;
  let coins: Coin[];
  beforeAll(async () => {
    sim = await startSimnet();
    rpc = new CoreRpcClient({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: { attempts: 1 } });
    coins = mineCoins(sim.chain, 102);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('reports mempool entries with ancestor and descendant fees (what CPFP reasons about)', async () => {
    const c = coins[0] as Coin;
    const parent = spend({ coins: [c], outputs: [out(c.value - 200n, P2WSH_TRUE)] });
    const child = spend({ coins: [coinOf(parent)], outputs: [out(c.value - 10_200n)] });
    await rpc.call('sendrawtransaction', [Buffer.from(parent.raw).toString('hex')]);
    await rpc.call('sendrawtransaction', [Buffer.from(child.raw).toString('hex')]);
    const entry = await rpc.call<{
      ancestorcount: number;
      fees: { base: number; ancestor: number };
      depends: string[];
    }>('getmempoolentry', [child.txid]);
    expect(entry.ancestorcount).toBe(2);
    expect(entry.fees.base).toBe(0.0001);
    expect(entry.fees.ancestor).toBe(0.000102);
    expect(entry.depends).toEqual([parent.txid]);
    expect(await rpc.call('getrawmempool')).toEqual([child.txid, parent.txid]);
    // Resubmitting a known transaction answers its txid, as Core does.
    expect(await rpc.call('sendrawtransaction', [Buffer.from(child.raw).toString('hex')])).toBe(child.txid);
  });

  it.each([
    ['getblockhash', [10_000], -8, 'Block height out of range'],
    ['getblockheader', ['00'.repeat(32)], -5, 'Block not found'],
    ['getrawtransaction', ['00'.repeat(32), true], -5, /^No such mempool or blockchain transaction/],
    ['getmempoolentry', ['00'.repeat(32)], -5, 'Transaction not in mempool'],
    ['sendrawtransaction', ['zz'], -22, /^TX decode failed/],
    ['testmempoolaccept', [[]], -8, 'Array must contain between 1 and 25 transactions.'],
    ['estimatesmartfee', [0], -8, /^Invalid conf_target/],
    ['generatetoaddress', [1, 'not-an-address'], -5, 'Error: Invalid address'],
    ['nosuchmethod', [], -32601, 'Method not found'],
  ] as const)('%s answers Core error %s', async (method, params, code, message) => {
    const err = (await rpc.call(method, [...params]).catch((e: unknown) => e)) as CoreRpcError;
    expect(err).toBeInstanceOf(CoreRpcError);
    expect(err.code).toBe(code);
    if (typeof message === 'string') expect(err.rpcMessage).toBe(message);
    else expect(err.rpcMessage).toMatch(message);
  });

  it('answers getblock at every verbosity and gettxout for mempool and chain', async () => {
    const hash = sim.chain.blockAt(3)?.hash as string;
    const v1 = await rpc.call<{ height: number; tx: string[]; previousblockhash: string }>('getblock', [
      hash,
      1,
    ]);
    expect(v1.height).toBe(3);
    expect(v1.tx).toEqual([coins[2]?.txid]);
    expect(v1.previousblockhash).toBe(sim.chain.blockAt(2)?.hash);
    expect(await rpc.call('getblock', [hash, 0])).toBe(
      Buffer.from(sim.chain.blockAt(3)?.raw as Uint8Array).toString('hex'),
    );
    const coin = await rpc.call<{ value: number; coinbase: boolean; confirmations: number }>('gettxout', [
      coins[5]?.txid,
      0,
    ]);
    expect(coin).toMatchObject({ value: 50, coinbase: true, confirmations: sim.chain.height - 5 });
    expect(await rpc.call('gettxout', [coins[0]?.txid, 0])).toBeNull();
  });
});

describe('BIP-68 relative lock by time', () => {
  it('holds a spend until the median time past has moved 512-second units past the coin', () => {
    let now = 1_700_000_000;
    const chain = new SimChain({ clock: () => now });
    const tick = () => {
      now += 600;
      chain.mine(P2WPKH);
    };
    const coins: Coin[] = [];
    for (let i = 0; i < 101; i++) {
      now += 600;
      coins.push(...mineCoins(chain, 1));
    }
    const c = coins[0] as Coin;
    const fund = spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] });
    chain.accept(fund.raw);
    tick();
    // Type flag (1 << 22) with 3 units: 1,536 seconds after the MTP before the coin's block.
    const locked = spend({ coins: [coinOf(fund)], outputs: [out(c.value - 3000n)], sequence: (1 << 22) | 3 });
    const attempt = () => {
      try {
        chain.accept(locked.raw);
        return 'accepted';
      } catch (err) {
        if (err instanceof TxReject) return err.reason;
        throw err;
      }
    };
    // The coin's block is 102; its clock starts at the MTP of block 101, which lags 5 blocks (median of 11).
    const start = chain.medianTimePast(101);
    expect(attempt()).toBe('non-BIP68-final'); // MTP(102) = start + 600
    tick();
    expect(chain.medianTimePast()).toBe(start + 1200);
    expect(attempt()).toBe('non-BIP68-final'); // 1200 ≤ 1535
    tick();
    expect(chain.medianTimePast()).toBe(start + 1800);
    expect(attempt()).toBe('accepted'); // 1535 < 1800
  });
});
