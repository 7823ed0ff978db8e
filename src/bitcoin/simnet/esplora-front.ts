/**
 * An Esplora-shaped REST front over simnet: the endpoints Vigil's Esplora backend uses, with
 * Esplora's JSON shapes and its way of forwarding Core's refusals (HTTP 400 + text; `errorFormat`
 * picks the new electrs text or the old JSON-in-text of mempool.space and older electrs).
 */
import type { ServerResponse } from 'node:http';
import { bytesToHex } from '../../core/bytes.ts';
import { scriptForAddress } from '../codec/address.ts';
import { txVsize, txWeight } from '../codec/codec.ts';
import { feeRateToSatPerVb } from '../codec/fee-rate.ts';
import type { SimChain } from './chain.ts';
import type { FaultInjector } from './faults.ts';
import { type RunningFront, startFront } from './http-front.ts';
import { hexOf } from './mempool.ts';
import { RpcError, sendRawTransaction } from './sendraw.ts';
import type { ChainBlock } from './types.ts';

export type EsploraErrorFormat = 'modern' | 'legacy';

export type EsploraFrontSettings = { errorFormat: EsploraErrorFormat };

const ESPLORA_TARGETS = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 144, 504, 1008,
];

export async function startEsploraFront(
  chain: SimChain,
  faults: FaultInjector,
  settings: EsploraFrontSettings,
  port = 0,
): Promise<RunningFront> {
  const status = (block: ChainBlock | undefined) =>
    block
      ? { confirmed: true, block_height: block.height, block_hash: block.hash, block_time: block.time }
      : { confirmed: false };
  const routes: [RegExp, string, (m: RegExpExecArray, body: Uint8Array, res: ServerResponse) => void][] = [
    [/^\/blocks\/tip\/height$/, 'GET', (_m, _b, res) => text(res, 200, String(chain.height))],
    [/^\/blocks\/tip\/hash$/, 'GET', (_m, _b, res) => text(res, 200, chain.tip.hash)],
    [
      /^\/block-height\/(\d+)$/,
      'GET',
      (m, _b, res) => {
        const b = chain.blockAt(Number(m[1]));
        if (b) text(res, 200, b.hash);
        else text(res, 404, 'Block not found');
      },
    ],
    [
      /^\/block\/([0-9a-f]{64})$/,
      'GET',
      (m, _b, res) => {
        const b = chain.blockByHash(m[1] as string);
        if (!b) return text(res, 404, 'Block not found');
        json(res, {
          id: b.hash,
          height: b.height,
          version: 0x20000000,
          timestamp: b.time,
          tx_count: b.txs.length,
          size: b.raw.length,
          weight: b.txs.reduce((s, t) => s + txWeight(t.tx), 320),
          merkle_root: bytesToHex(b.header.slice(36, 68).reverse()),
          previousblockhash: b.height > 0 ? b.prevHash : null,
          mediantime: chain.medianTimePast(b.height),
          nonce: new DataView(b.header.buffer, b.header.byteOffset).getUint32(76, true),
          bits: 0x207fffff,
          difficulty: 0,
        });
      },
    ],
    [
      /^\/block\/([0-9a-f]{64})\/txids$/,
      'GET',
      (m, _b, res) => {
        const b = chain.blockByHash(m[1] as string);
        if (!b) return text(res, 404, 'Block not found');
        json(
          res,
          b.txs.map((t) => t.txid),
        );
      },
    ],
    [
      /^\/block\/([0-9a-f]{64})\/raw$/,
      'GET',
      (m, _b, res) => {
        const b = chain.blockByHash(m[1] as string);
        if (!b) return text(res, 404, 'Block not found');
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(b.raw));
      },
    ],
    [
      /^\/tx\/([0-9a-f]{64})\/hex$/,
      'GET',
      (m, _b, res) => {
        const f = chain.findTx(m[1] as string);
        if (!f) return text(res, 404, 'Transaction not found');
        text(res, 200, bytesToHex(f.raw));
      },
    ],
    [
      /^\/tx\/([0-9a-f]{64})\/status$/,
      'GET',
      (m, _b, res) => {
        const f = chain.findTx(m[1] as string);
        if (!f) return text(res, 404, 'Transaction not found');
        json(res, status(f.block));
      },
    ],
    [
      /^\/tx\/([0-9a-f]{64})$/,
      'GET',
      (m, _b, res) => {
        const txid = m[1] as string;
        const f = chain.findTx(txid);
        if (!f) return text(res, 404, 'Transaction not found');
        json(res, {
          txid,
          version: f.tx.version,
          locktime: f.tx.locktime,
          vin: f.tx.inputs.map((i) => ({
            txid: hexOf(i.prevTxid),
            vout: i.vout,
            scriptsig: bytesToHex(i.scriptSig),
            witness: i.witness.map((w) => bytesToHex(w)),
            sequence: i.sequence,
          })),
          vout: f.tx.outputs.map((o) => ({ scriptpubkey: bytesToHex(o.script), value: Number(o.value) })),
          size: f.raw.length,
          weight: txWeight(f.tx),
          vsize: txVsize(f.tx),
          status: status(f.block),
        });
      },
    ],
    [
      /^\/tx\/([0-9a-f]{64})\/outspend\/(\d+)$/,
      'GET',
      (m, _b, res) => {
        const spend = chain.spenderOf(m[1] as string, Number(m[2]));
        if (!spend) return json(res, { spent: false });
        json(res, {
          spent: true,
          txid: spend.txid,
          vin: spend.vin,
          status: status(spend.blockHash === undefined ? undefined : chain.blockByHash(spend.blockHash)),
        });
      },
    ],
    [
      /^\/address\/([^/]+)\/utxo$/,
      'GET',
      (m, _b, res) => {
        let script: Uint8Array;
        try {
          script = scriptForAddress(decodeURIComponent(m[1] as string), 'regtest');
        } catch {
          return text(res, 400, 'Invalid Bitcoin address');
        }
        json(
          res,
          chain.utxosForScript(script, true).map((u) => {
            const b = u.height === undefined ? undefined : chain.blockAt(u.height);
            return { txid: u.txid, vout: u.vout, value: Number(u.value), status: status(b) };
          }),
        );
      },
    ],
    [
      /^\/fee-estimates$/,
      'GET',
      (_m, _b, res) => {
        const rate = chain.feeEstimate;
        json(
          res,
          rate === undefined
            ? {}
            : Object.fromEntries(ESPLORA_TARGETS.map((t) => [String(t), feeRateToSatPerVb(rate)])),
        );
      },
    ],
    [/^\/mempool\/txids$/, 'GET', (_m, _b, res) => json(res, chain.mempoolByFeerate())],
    [
      /^\/tx$/,
      'POST',
      (_m, body, res) => {
        // electrs sends `sendrawtransaction <hex>` and nothing else, so Core's defaults apply:
        // maxfeerate 0.10 BTC/kvB and maxburnamount 0. No caller can raise them through Esplora.
        const hex = new TextDecoder().decode(body).trim();
        try {
          text(res, 200, sendRawTransaction(chain, { hexstring: hex }));
        } catch (err) {
          if (!(err instanceof RpcError)) throw err;
          text(res, 400, formatError(settings.errorFormat, err.code, err.message));
        }
      },
    ],
  ];
  return startFront(
    'esplora',
    faults,
    (req) => `esplora:${req.method} ${req.url ?? ''}`,
    (req, body, res) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      for (const [re, method, fn] of routes) {
        const m = re.exec(path);
        if (m && req.method === method) return fn(m, body, res);
      }
      text(res, 404, 'Not found');
    },
    port,
  );
}

function formatError(format: EsploraErrorFormat, code: number, message: string): string {
  return format === 'modern'
    ? `sendrawtransaction RPC error ${code}: ${message}`
    : `sendrawtransaction RPC error: ${JSON.stringify({ code, message })}`;
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
