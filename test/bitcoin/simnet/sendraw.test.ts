/**
 * simnet's sendrawtransaction is as strict as Bitcoin Core 26 and as an Esplora server in front of
 * it: maxburnamount (default 0) refuses value sent to unspendable outputs before the mempool sees it,
 * maxfeerate (default 0.10 BTC/kvB) applies on both fronts, and arguments are checked as Core does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcClient, CoreRpcError } from '../../../src/bitcoin/backends/core-rpc-client.ts';
import { txVsize } from '../../../src/bitcoin/codec/codec.ts';
import {
  amountFromValue,
  burnsValue,
  MAX_BURN_EXCEEDED_MESSAGE,
  MAX_FEE_EXCEEDED_MESSAGE,
  RpcError,
} from '../../../src/bitcoin/simnet/sendraw.ts';
import { type Simnet, startSimnet } from '../../../src/bitcoin/simnet/start.ts';
import { bytesToHex } from '../../../src/core/bytes.ts';
import { BURN_SCRIPT_PUBKEY } from '../../../src/dispute/graph/scripts.ts';
import { type Coin, mineCoins, out, P2WSH_TRUE, spend } from '../../../testkit/bitcoin/simnet/fixture.ts';

const OP_RETURN = Uint8Array.of(0x6a);
const OP_RETURN_DATA = Uint8Array.of(0x6a, 0x04, 0xde, 0xad, 0xbe, 0xef);

describe('Core amount arguments (AmountFromValue)', () => {
  it.each([
    [0, 0n],
    [0.1, 10_000_000n],
    ['0.00000001', 1n],
    ['0.000000010', 1n],
    ['1e-8', 1n],
    ['21000000', 2_100_000_000_000_000n],
    [1.5, 150_000_000n],
  ] as const)('%s BTC is %s sat', (value, sats) => {
    expect(amountFromValue(value)).toBe(sats);
  });

  it.each([
    [-0.0001, 'Amount out of range'],
    ['-1', 'Amount out of range'],
    [21_000_001, 'Amount out of range'],
    ['abc', 'Invalid amount'],
    ['', 'Invalid amount'],
    ['0.000000001', 'Invalid amount'],
    ['.5', 'Invalid amount'],
    ['01', 'Invalid amount'],
    ['1e10', 'Invalid amount'],
    [true, 'Amount is not a number or string'],
    [[1], 'Amount is not a number or string'],
  ] as const)('%j is refused: -3 %s', (value, message) => {
    const err = (() => {
      try {
        amountFromValue(value);
      } catch (e) {
        return e;
      }
      return undefined;
    })() as RpcError;
    expect(err).toBeInstanceOf(RpcError);
    expect([err.code, err.message]).toEqual([-3, message]);
  });
});

describe('what sendrawtransaction counts as a burn', () => {
  it('OP_RETURN first, longer than 10,000 bytes, or an invalid opcode; never a witness program', () => {
    expect(burnsValue(OP_RETURN)).toBe(true);
    expect(burnsValue(OP_RETURN_DATA)).toBe(true);
    expect(burnsValue(new Uint8Array(10_001).fill(0x51))).toBe(true);
    expect(burnsValue(Uint8Array.of(0x51, 0xff))).toBe(true); // OP_INVALIDOPCODE
    expect(burnsValue(Uint8Array.of(0x51, 0xba))).toBe(true); // OP_CHECKSIGADD is above MAX_OPCODE
    expect(burnsValue(Uint8Array.of(0x4c, 0x05, 0x01))).toBe(true); // push past the end
    expect(burnsValue(new Uint8Array(10_000).fill(0x51))).toBe(false);
    expect(burnsValue(Uint8Array.of(0x51, 0xb9))).toBe(false); // OP_NOP10
    expect(burnsValue(BURN_SCRIPT_PUBKEY)).toBe(false);
    expect(burnsValue(P2WSH_TRUE)).toBe(false);
  });
});

describe('sendrawtransaction on both fronts', () => {
  let sim: Simnet;
  let rpc: CoreRpcClient;
  let coins: Coin[];
  const next = (): Coin => coins.shift() as Coin;
  const hex = (raw: Uint8Array) => bytesToHex(raw);
  const rpcError = async (params: unknown[]): Promise<CoreRpcError> => {
    const err = await rpc.call('sendrawtransaction', params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreRpcError);
    return err as CoreRpcError;
  };
  const postTx = async (raw: Uint8Array): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${sim.esploraUrl}/tx`, { method: 'POST', body: hex(raw) });
    return { status: res.status, body: await res.text() };
  };
  /** A spend of a fresh 50-BTC coinbase with an extra output, paying a 10,000-sat fee. */
  const withOutput = (value: bigint, script: Uint8Array) => {
    const c = next();
    return spend({ coins: [c], outputs: [out(value, script), out(c.value - value - 10_000n)] });
  };

  beforeAll(async () => {
    sim = await startSimnet();
    rpc = new CoreRpcClient({ url: sim.rpcUrl, auth: sim.rpcAuth, retry: { attempts: 1 } });
    coins = mineCoins(sim.chain, 130);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('RPC: a value-carrying OP_RETURN output is refused with -25 by default, before the mempool', async () => {
    const t = withOutput(1_000n, OP_RETURN);
    const err = await rpcError([hex(t.raw)]);
    expect([err.code, err.rpcMessage]).toEqual([-25, MAX_BURN_EXCEEDED_MESSAGE]);
    expect(err.rpcMessage).toBe('Unspendable output exceeds maximum configured by user (maxburnamount)');
    // Explicit null arguments are Core's defaults too.
    expect((await rpcError([hex(t.raw), null, null])).code).toBe(-25);
    expect(sim.chain.mempool.get(t.txid)).toBeUndefined();
  });

  it('testmempoolaccept has no maxburnamount: it accepts the same transaction', async () => {
    const t = withOutput(1_000n, OP_RETURN_DATA);
    const [r] = await rpc.call<{ allowed: boolean; txid: string }[]>('testmempoolaccept', [[hex(t.raw)]]);
    expect(r).toMatchObject({ txid: t.txid, allowed: true });
    expect((await rpcError([hex(t.raw)])).rpcMessage).toBe(MAX_BURN_EXCEEDED_MESSAGE);
  });

  it('RPC: accepted once maxburnamount is raised to the burned value (strictly greater is refused)', async () => {
    const t = withOutput(1_000n, OP_RETURN_DATA);
    expect((await rpcError([hex(t.raw), 0.1, 0.00000999])).rpcMessage).toBe(MAX_BURN_EXCEEDED_MESSAGE);
    expect(await rpc.call('sendrawtransaction', [hex(t.raw), 0.1, 0.00001])).toBe(t.txid);
    const s = withOutput(5_000n, OP_RETURN);
    expect(await rpc.call('sendrawtransaction', [hex(s.raw), null, '0.001'])).toBe(s.txid);
    expect(sim.chain.mempool.get(s.txid)).toBeDefined();
  });

  it('an OP_RETURN output of zero value is no burn, and P2WSH(OP_RETURN) never is', async () => {
    const zero = withOutput(0n, OP_RETURN_DATA);
    expect(await rpc.call('sendrawtransaction', [hex(zero.raw)])).toBe(zero.txid);
    const p2wsh = withOutput(1_000_000n, BURN_SCRIPT_PUBKEY);
    expect(await rpc.call('sendrawtransaction', [hex(p2wsh.raw)])).toBe(p2wsh.txid);
    const viaEsplora = withOutput(2_000_000n, BURN_SCRIPT_PUBKEY);
    expect(await postTx(viaEsplora.raw)).toEqual({ status: 200, body: viaEsplora.txid });
  });

  it('RPC: bad amount arguments give Core -3 errors, checked in Core order', async () => {
    const t = withOutput(1_000n, P2WSH_TRUE);
    const cases: [unknown[], number, string][] = [
      [[hex(t.raw), 0.1, -0.00001], -3, 'Amount out of range'],
      [[hex(t.raw), 0.1, 'lots'], -3, 'Invalid amount'],
      [[hex(t.raw), 0.1, false], -3, 'Amount is not a number or string'],
      [[hex(t.raw), -0.1], -3, 'Amount out of range'],
      [[hex(t.raw), 'high'], -3, 'Invalid amount'],
      [[hex(t.raw), {}], -3, 'Amount is not a number or string'],
      // maxburnamount is read before the hex is decoded; maxfeerate after.
      [['zz', null, -1], -3, 'Amount out of range'],
      [['zz', -1], -22, 'TX decode failed. Make sure the tx has at least one input.'],
      [
        [7],
        -3,
        'Wrong type passed:\n{\n    "Position 1 (hexstring)": "JSON value of type number is not of expected type string"\n}',
      ],
    ];
    for (const [params, code, message] of cases) {
      const err = await rpcError(params);
      expect([params, err.code, err.rpcMessage]).toEqual([params, code, message]);
    }
    expect(sim.chain.mempool.get(t.txid)).toBeUndefined();
    expect(await rpc.call('sendrawtransaction', [hex(t.raw), '0.1', '0'])).toBe(t.txid);
  });

  it('RPC: maxfeerate defaults to 0.10 BTC/kvB; 0 lifts it; testmempoolaccept applies it too', async () => {
    const c = next();
    // About 2,000,000 sat for ~110 vB: some 18,000 sat/vB, above 10,000 sat/vB.
    const t = spend({ coins: [c], outputs: [out(c.value - 2_000_000n)] });
    const err = await rpcError([hex(t.raw)]);
    expect([err.code, err.rpcMessage]).toEqual([-25, MAX_FEE_EXCEEDED_MESSAGE]);
    const [r] = await rpc.call<{ allowed: boolean; 'reject-reason': string }[]>('testmempoolaccept', [
      [hex(t.raw)],
    ]);
    expect(r).toMatchObject({ allowed: false, 'reject-reason': 'max-fee-exceeded' });
    expect(await rpc.call('sendrawtransaction', [hex(t.raw), 0])).toBe(t.txid);
  });

  it('Esplora POST /tx: Core defaults, so a burn and a fee above 0.10 BTC/kvB are refused (-25)', async () => {
    const burn = withOutput(1_000n, OP_RETURN);
    expect(await postTx(burn.raw)).toEqual({
      status: 400,
      body: 'sendrawtransaction RPC error -25: Unspendable output exceeds maximum configured by user (maxburnamount)',
    });
    const c = next();
    const costly = spend({ coins: [c], outputs: [out(c.value - 2_000_000n)] });
    expect(await postTx(costly.raw)).toEqual({
      status: 400,
      body: 'sendrawtransaction RPC error -25: Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
    });
    sim.setEsploraErrorFormat('legacy');
    try {
      expect(await postTx(burn.raw)).toEqual({
        status: 400,
        body: `sendrawtransaction RPC error: ${JSON.stringify({ code: -25, message: MAX_BURN_EXCEEDED_MESSAGE })}`,
      });
    } finally {
      sim.setEsploraErrorFormat('modern');
    }
    expect(sim.chain.mempool.get(burn.txid)).toBeUndefined();
    expect(sim.chain.mempool.get(costly.txid)).toBeUndefined();
    // Below the default rate passes: 9,000 sat/vB.
    const d = next();
    const probe = spend({ coins: [d], outputs: [out(d.value - 1_000n)] });
    const fair = spend({ coins: [d], outputs: [out(d.value - 9_000n * BigInt(txVsize(probe.tx)))] });
    expect(await postTx(fair.raw)).toEqual({ status: 200, body: fair.txid });
    // The same bytes again: Core answers the txid.
    expect(await postTx(fair.raw)).toEqual({ status: 200, body: fair.txid });
  });
});
