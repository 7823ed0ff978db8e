/**
 * Every number a backend returns is range-checked. A local server plays a hostile Core RPC node and a
 * hostile Esplora server; each bound is fed its bad input and must be refused as a lie (`out-of-range`,
 * not retried, naming the field and the value), quickly, in bounded memory, with the backend still
 * answering the next request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreRpcBackend } from '../../../src/bitcoin/backends/core-rpc.ts';
import { BackendLiedError } from '../../../src/bitcoin/backends/errors.ts';
import { EsploraBackend } from '../../../src/bitcoin/backends/esplora.ts';
import { btcToSatsExact } from '../../../src/bitcoin/backends/shape.ts';
import type { BitcoinBackend } from '../../../src/bitcoin/backends/types.ts';
import { type Hostile, measure, rpcResult, sendText, startHostile } from './hostile-server.ts';

const RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 5_000 };
const HASH = 'ab'.repeat(32);
const TXID = 'cd'.repeat(32);
/** 20 MiB of digits: under the body cap, so the number itself must be refused. */
const HUGE = '9'.repeat(20 * 1024 * 1024);
const HEIGHT_RANGE = '(an integer from 0 to 9007199254740991)';
const RATE_RANGE = '0 to 100000 sat/vB';

type Case = {
  name: string;
  /** The JSON-RPC result (Core) or the body (Esplora) of the hostile reply, as raw text. */
  reply: string;
  call: (b: BitcoinBackend) => Promise<unknown>;
  message: string;
};

const utxo = (fields: string) => `{"unspents":[{"txid":"${TXID}","scriptPubKey":"51",${fields}}]}`;
const coreCases: Case[] = [
  {
    name: 'a negative tip height',
    reply: '-1',
    call: (b) => b.getTipHeight(),
    message: `getblockcount: (root): -1 is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: 'a fractional tip height',
    reply: '1.5',
    call: (b) => b.getTipHeight(),
    message: `getblockcount: (root): 1.5 is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: '1e400 as the tip height',
    reply: '1e400',
    call: (b) => b.getTipHeight(),
    message: `getblockcount: (root): Infinity is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: '20 MiB of digits as the tip height',
    reply: HUGE,
    call: (b) => b.getTipHeight(),
    message: `getblockcount: (root): Infinity is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: 'a negative fee rate',
    reply: '{"feerate":-0.0001,"blocks":2}',
    call: (b) => b.estimateFee(2),
    message: `estimatesmartfee: feerate: -0.0001 is not a fee rate (${RATE_RANGE}, in BTC/kvB)`,
  },
  {
    name: '1e400 as a fee rate',
    reply: '{"feerate":1e400,"blocks":2}',
    call: (b) => b.estimateFee(2),
    message: `estimatesmartfee: feerate: Infinity is not a fee rate (${RATE_RANGE}, in BTC/kvB)`,
  },
  {
    name: 'an absurd fee rate',
    reply: '{"feerate":2,"blocks":2}',
    call: (b) => b.estimateFee(2),
    message: `estimatesmartfee: feerate: 2 is not a fee rate (${RATE_RANGE}, in BTC/kvB)`,
  },
  {
    name: 'a negative estimate target',
    reply: '{"feerate":0.0001,"blocks":-2}',
    call: (b) => b.estimateFee(2),
    message: 'estimatesmartfee: blocks: -2 is not a count (an integer from 0 to 9007199254740991)',
  },
  {
    name: 'a negative amount',
    reply: utxo('"vout":0,"amount":-1,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message: 'scantxoutset: unspents.0.amount: -1 is not a BTC amount (0 to 21000000, 8 decimals at most)',
  },
  {
    name: 'an amount above the money supply',
    reply: utxo('"vout":0,"amount":21000000.00000001,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.amount: 21000000.00000001 is not a BTC amount (0 to 21000000, 8 decimals at most)',
  },
  {
    name: 'an amount with 9 decimals',
    reply: utxo('"vout":0,"amount":0.123456789,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.amount: 0.123456789 is not a BTC amount (0 to 21000000, 8 decimals at most)',
  },
  {
    name: '1e400 as an amount',
    reply: utxo('"vout":0,"amount":1e400,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.amount: Infinity is not a BTC amount (0 to 21000000, 8 decimals at most)',
  },
  {
    name: 'a million-digit amount string',
    reply: utxo(`"vout":0,"amount":"${'1'.repeat(1_000_000)}","height":5`),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.amount: "11111111111111111111111… (1000002 characters) is not a BTC amount (0 to 21000000, 8 decimals at most)',
  },
  {
    name: 'a negative vout',
    reply: utxo('"vout":-1,"amount":1,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.vout: -1 is not an output or input index (an integer from 0 to 4294967295)',
  },
  {
    name: 'a vout past u32',
    reply: utxo('"vout":4294967296,"amount":1,"height":5'),
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'scantxoutset: unspents.0.vout: 4294967296 is not an output or input index (an integer from 0 to 4294967295)',
  },
  {
    name: 'a negative UTXO height',
    reply: utxo('"vout":0,"amount":1,"height":-3'),
    call: (b) => b.getUtxos('bcrt1q'),
    message: `scantxoutset: unspents.0.height: -3 is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: 'negative confirmations',
    reply: '{"hex":"00","confirmations":-5}',
    call: (b) => b.getTransaction(TXID),
    message: 'getrawtransaction: confirmations: -5 is not a count (an integer from 0 to 9007199254740991)',
  },
  {
    name: 'a header time past u32',
    reply: `{"hash":"${HASH}","height":1,"time":4294967296}`,
    call: (b) => b.getBlockHeader(HASH),
    message: 'getblockheader: time: 4294967296 is not a block time (an integer from 0 to 4294967295)',
  },
  {
    name: 'a negative header height',
    reply: `{"hash":"${HASH}","height":-1,"time":1}`,
    call: (b) => b.getBlockHeader(HASH),
    message: `getblockheader: height: -1 is not a block height ${HEIGHT_RANGE}`,
  },
];

const esploraCases: Case[] = [
  {
    name: 'a negative tip height',
    reply: '-1',
    call: (b) => b.getTipHeight(),
    message: 'GET /blocks/tip/height: "-1" is not a block height',
  },
  {
    name: '1e400 as the tip height',
    reply: '1e400',
    call: (b) => b.getTipHeight(),
    message: 'GET /blocks/tip/height: "1e400" is not a block height',
  },
  {
    name: '20 MiB of digits as the tip height',
    reply: HUGE,
    call: (b) => b.getTipHeight(),
    message: `GET /blocks/tip/height: "99999999999999999999999… (${HUGE.length + 2} characters) is not a block height`,
  },
  {
    name: 'a tip height past 2^53',
    reply: '9007199254740993',
    call: (b) => b.getTipHeight(),
    message: `GET /blocks/tip/height: 9007199254740992 is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: 'a negative fee rate',
    reply: '{"1":-1,"2":5}',
    call: (b) => b.estimateFee(2),
    message: `GET /fee-estimates: 1: -1 is not a fee rate (${RATE_RANGE}, in sat/vB)`,
  },
  {
    name: '1e400 as a fee rate',
    reply: '{"2":1e400}',
    call: (b) => b.estimateFee(2),
    message: `GET /fee-estimates: 2: Infinity is not a fee rate (${RATE_RANGE}, in sat/vB)`,
  },
  {
    name: 'an absurd fee rate',
    reply: '{"2":1000000}',
    call: (b) => b.estimateFee(2),
    message: `GET /fee-estimates: 2: 1000000 is not a fee rate (${RATE_RANGE}, in sat/vB)`,
  },
  {
    name: 'a negative value',
    reply: `[{"txid":"${TXID}","vout":0,"value":-1,"status":{"confirmed":false}}]`,
    call: (b) => b.getUtxos('bcrt1q'),
    message: 'GET /address/bcrt1q/utxo: 0.value: -1 is not an amount (0 to 2100000000000000 sat)',
  },
  {
    name: 'a value above the money supply',
    reply: `[{"txid":"${TXID}","vout":0,"value":2100000000000001,"status":{"confirmed":false}}]`,
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'GET /address/bcrt1q/utxo: 0.value: 2100000000000001 is not an amount (0 to 2100000000000000 sat)',
  },
  {
    name: 'a fractional value',
    reply: `[{"txid":"${TXID}","vout":0,"value":0.5,"status":{"confirmed":false}}]`,
    call: (b) => b.getUtxos('bcrt1q'),
    message: 'GET /address/bcrt1q/utxo: 0.value: 0.5 is not an amount (0 to 2100000000000000 sat)',
  },
  {
    name: 'a million-digit value string',
    reply: `[{"txid":"${TXID}","vout":0,"value":"${'7'.repeat(1_000_000)}","status":{"confirmed":false}}]`,
    call: (b) => b.getUtxos('bcrt1q'),
    message:
      'GET /address/bcrt1q/utxo: 0.value: "77777777777777777777777… (1000002 characters) is not an amount (0 to 2100000000000000 sat)',
  },
  {
    name: 'a negative block height in a status',
    reply: `[{"txid":"${TXID}","vout":0,"value":1,"status":{"confirmed":true,"block_height":-7,"block_hash":"${HASH}"}}]`,
    call: (b) => b.getUtxos('bcrt1q'),
    message: `GET /address/bcrt1q/utxo: 0.status.block_height: -7 is not a block height ${HEIGHT_RANGE}`,
  },
  {
    name: 'a negative vin',
    reply: `{"spent":true,"txid":"${TXID}","vin":-1}`,
    call: (b) => b.getOutspend(TXID, 0),
    message: `GET /tx/${TXID}/outspend/0: vin: -1 is not an output or input index (an integer from 0 to 4294967295)`,
  },
  {
    name: '1e400 as a block timestamp',
    reply: `{"id":"${HASH}","height":1,"timestamp":1e400}`,
    call: (b) => b.getBlockHeader(HASH),
    message: `GET /block/${HASH}: timestamp: Infinity is not a block time (an integer from 0 to 4294967295)`,
  },
];

describe.each([
  { kind: 'core-rpc', cases: coreCases },
  { kind: 'esplora', cases: esploraCases },
] as const)('range checks: $kind', ({ kind, cases }) => {
  let server: Hostile;
  let reply = '';
  let backend: BitcoinBackend;
  beforeAll(async () => {
    server = await startHostile(({ path, method }, res) => {
      if (method === 'getbestblockhash') return rpcResult(res, `"${HASH}"`);
      if (method !== undefined) return rpcResult(res, reply);
      if (path === '/blocks/tip/hash') return sendText(res, HASH, 'text/plain');
      sendText(res, reply);
    });
    backend =
      kind === 'core-rpc'
        ? new CoreRpcBackend({ url: server.url, auth: { user: 'u', password: 'p' }, retry: RETRY })
        : new EsploraBackend({ baseUrl: server.url, retry: RETRY });
  });
  afterAll(async () => {
    await server.close();
  });

  it.each(cases)('refuses $name', async ({ reply: hostile, call, message }) => {
    reply = hostile;
    const before = server.requests.length;
    const r = await measure(() => call(backend));
    expect(r.error).toBeInstanceOf(BackendLiedError);
    expect((r.error as BackendLiedError).lie).toBe('out-of-range');
    expect((r.error as BackendLiedError).shortMessage).toBe(
      `Bitcoin backend (${kind}) gave a false answer: ${message}`,
    );
    expect(server.requests.length - before).toBe(1);
    expect(r.heapMiB).toBeLessThan(64 + (hostile.length * 4) / (1024 * 1024));
    expect(await backend.getTipHash()).toBe(HASH);
  });
});

describe('exact BTC amounts', () => {
  it('reads every 8-decimal amount exactly, from numbers and strings', () => {
    expect(btcToSatsExact(0.1)).toBe(10_000_000n);
    expect(btcToSatsExact(20_999_999.9769)).toBe(2_099_999_997_690_000n);
    expect(btcToSatsExact(21_000_000)).toBe(2_100_000_000_000_000n);
    expect(btcToSatsExact(0.00000001)).toBe(1n);
    expect(btcToSatsExact('0.00000001')).toBe(1n);
    expect(btcToSatsExact('21000000.00000000')).toBe(2_100_000_000_000_000n);
    expect(btcToSatsExact(1e-9)).toBeUndefined();
    expect(btcToSatsExact('0.000000001')).toBeUndefined();
    expect(btcToSatsExact('-1')).toBeUndefined();
    expect(btcToSatsExact('1e3')).toBeUndefined();
    expect(btcToSatsExact(Number.NaN)).toBeUndefined();
  });
});
