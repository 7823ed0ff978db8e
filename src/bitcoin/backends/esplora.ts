/**
 * `BitcoinBackend` over Esplora's REST API (Blockstream's electrs, mempool.space).
 * `baseUrl` is the API root, e.g. https://blockstream.info/api or http://127.0.0.1:3002. A provider's
 * key may sit in it: in the path (`https://host/<key>/api`), the query (`?apikey=<key>`, kept after each
 * request path) or as credentials (`https://user:<password>@host`, sent as basic auth, since fetch
 * refuses a URL holding them). Every error text is scrubbed of them.
 */
import { z } from 'zod';
import { bytesToHex, hexToBytes } from '../../core/bytes.ts';
import { secretScrubber, urlSecrets } from '../../core/redact.ts';
import { decodeTx, hashToHex, txidHex, txVsize } from '../codec/codec.ts';
import { type FeeRate, feeForVsize, feeRateToSatPerVb } from '../codec/fee-rate.ts';
import {
  ConfirmedTxCache,
  type ConfirmedTxCacheOptions,
  heldTx,
  keptFromBlock,
} from './confirmed-tx-cache.ts';
import { BackendLiedError, BackendRequestError, BroadcastRejectedError, TransientFault } from './errors.ts';
import {
  type BodyLimit,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_RETRY_POLICY,
  fetchOnce,
  type HttpResponse,
  type RetryPolicy,
  withRetry,
} from './http.ts';
import {
  expectShape,
  heightField,
  indexField,
  parseHeightText,
  satPerVbField,
  satsField,
  timeField,
} from './shape.ts';
import type {
  BitcoinBackend,
  BlockHeaderInfo,
  BlockWithTxs,
  BroadcastOptions,
  FeeEstimate,
  Outspend,
  TxStatus,
  TxWithStatus,
  Utxo,
} from './types.ts';
import { checkHeightAsked, headerFields, verifiedBlock, verifiedTx } from './verify.ts';

export type EsploraBackendOptions = {
  baseUrl: string;
  retry?: Partial<RetryPolicy>;
  /** Response bodies above this many bytes are refused while streaming (default 32 MiB). */
  maxResponseBytes?: number;
  /** Confirmed transactions kept to answer them again with their status alone (confirmed-tx-cache.ts). */
  confirmedTxCache?: ConfirmedTxCacheOptions;
};

const HEX64 = z.string().regex(/^[0-9a-f]{64}$/);
const statusShape = z.object({
  confirmed: z.boolean(),
  block_height: heightField.optional(),
  block_hash: HEX64.optional(),
});
const blockShape = z.object({
  id: HEX64,
  height: heightField,
  previousblockhash: HEX64.nullish(),
  timestamp: timeField,
});
const outspendShape = z.object({
  spent: z.boolean(),
  txid: HEX64.optional(),
  vin: indexField.optional(),
  status: statusShape.optional(),
});
const utxoShape = z.array(z.object({ txid: HEX64, vout: indexField, value: satsField, status: statusShape }));
const feeShape = z.record(z.string(), satPerVbField);

const ZERO_HASH = '0'.repeat(64);

/**
 * Esplora forwards Core's refusal as HTTP 400 in one of two text formats:
 * new electrs: `sendrawtransaction RPC error -26: min relay fee not met, 211 < 212`;
 * old electrs and mempool.space: `sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met, 211 < 212"}`.
 */
export function parseEsploraBroadcastError(text: string): { reason: string; code: number | undefined } {
  const trimmed = text.trim();
  const modern = /^sendrawtransaction RPC error (-?\d+): ([\s\S]*)$/.exec(trimmed);
  if (modern) return { code: Number(modern[1]), reason: modern[2] ?? '' };
  const old = /^sendrawtransaction RPC error: (\{[\s\S]*\})$/.exec(trimmed);
  if (old?.[1]) {
    try {
      const obj = JSON.parse(old[1]) as { code?: unknown; message?: unknown };
      if (typeof obj.message === 'string') {
        return { reason: obj.message, code: typeof obj.code === 'number' ? obj.code : undefined };
      }
    } catch {
      // fall through to the plain text
    }
  }
  return { reason: trimmed, code: undefined };
}

export class EsploraBackend implements BitcoinBackend {
  readonly kind = 'esplora' as const;
  readonly testAccept = undefined;
  private readonly base: string;
  private readonly query: string;
  private readonly headers: Record<string, string>;
  private readonly policy: RetryPolicy;
  private readonly limit: BodyLimit;
  /** Error texts without the base URL's secrets, whether quoted as a URL or alone (an echoed path). */
  private readonly scrub: (text: string) => string;
  private readonly confirmed: ConfirmedTxCache;

  constructor(options: EsploraBackendOptions) {
    this.confirmed = new ConfirmedTxCache(options.confirmedTxCache);
    const u = new URL(options.baseUrl);
    const secrets = urlSecrets(options.baseUrl);
    this.headers = {};
    if (u.username !== '' || u.password !== '') {
      const userPass = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      const basic = Buffer.from(userPass).toString('base64');
      this.headers.authorization = `Basic ${basic}`;
      secrets.push(basic);
    }
    this.query = u.search;
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    this.base = u.toString().replace(/\/+$/, '');
    this.scrub = secretScrubber(secrets);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.limit = {
      backend: 'esplora',
      maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      scrub: this.scrub,
    };
  }

  /** The URL of an API path: the base, the path, then the base's query (an API key, say). */
  private urlOf(path: string): string {
    if (this.query === '') return `${this.base}${path}`;
    return `${this.base}${path}${path.includes('?') ? `&${this.query.slice(1)}` : this.query}`;
  }

  /** The first `n` characters of a body, scrubbed: a proxy's error page may echo the request. */
  private shown(res: HttpResponse, n: number): string {
    return this.scrub(res.text().slice(0, n));
  }

  /** 404 → undefined; 5xx and 429 transient; other 4xx permanent. */
  private judge(what: string, res: HttpResponse): HttpResponse | undefined {
    if (res.status >= 200 && res.status < 300) return res;
    if (res.status === 404) return undefined;
    if (res.status >= 500 || res.status === 429) {
      throw new TransientFault(`${what}: HTTP ${res.status} ${this.shown(res, 120)}`);
    }
    throw new BackendRequestError(
      'esplora',
      `${what}: HTTP ${res.status} ${this.shown(res, 200)}`,
      res.status,
    );
  }

  private async getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S> | undefined> {
    const res = await this.getParsed(path, (r) => {
      let value: unknown;
      try {
        value = JSON.parse(r.text());
      } catch {
        throw new TransientFault(`GET ${path}: not JSON: ${JSON.stringify(this.shown(r, 80))}`);
      }
      return expectShape(schema, value, `GET ${path}`, 'esplora');
    });
    return res;
  }

  /** A GET whose body is also checked inside the retry loop, so garbage bodies are retried too. */
  private async getParsed<T>(path: string, parse: (r: HttpResponse) => T): Promise<T | undefined> {
    return withRetry('esplora', `GET ${path}`, this.policy, async () => {
      const res = await fetchOnce(
        this.urlOf(path),
        { method: 'GET', headers: this.headers },
        this.policy.timeoutMs,
        this.limit,
      );
      const ok = this.judge(`GET ${path}`, res);
      return ok === undefined ? undefined : parse(ok);
    });
  }

  private async getText(path: string, pattern: RegExp): Promise<string | undefined> {
    return this.getParsed(path, (r) => {
      const text = r.text().trim();
      if (!pattern.test(text))
        throw new TransientFault(
          `GET ${path}: unexpected body ${JSON.stringify(this.scrub(text.slice(0, 80)))}`,
        );
      return text;
    });
  }

  async getTipHeight(): Promise<number> {
    // Anything number-like is read, so an out-of-range number is named a lie rather than garbage.
    const text = await this.getText('/blocks/tip/height', /^[-+.\deE]+$/);
    if (text === undefined) throw new BackendRequestError('esplora', '/blocks/tip/height not found', 404);
    const height = parseHeightText(text);
    if (!height.ok)
      throw new BackendLiedError('esplora', 'out-of-range', `GET /blocks/tip/height: ${height.why}`);
    return height.value;
  }

  async getTipHash(): Promise<string> {
    const text = await this.getText('/blocks/tip/hash', /^[0-9a-f]{64}$/);
    if (text === undefined) throw new BackendRequestError('esplora', '/blocks/tip/hash not found', 404);
    return text;
  }

  async getBlockHash(height: number): Promise<string | undefined> {
    return this.getText(`/block-height/${height}`, /^[0-9a-f]{64}$/);
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo | undefined> {
    const b = await this.getJson(`/block/${hash}`, blockShape);
    if (b === undefined) return undefined;
    if (b.id !== hash) {
      throw new BackendLiedError('esplora', 'block-hash-mismatch', `asked for block ${hash}, got ${b.id}`);
    }
    return { hash: b.id, height: b.height, prevHash: b.previousblockhash ?? ZERO_HASH, time: b.timestamp };
  }

  async getBlock(hashOrHeight: string | number): Promise<BlockWithTxs | undefined> {
    const hash = typeof hashOrHeight === 'number' ? await this.getBlockHash(hashOrHeight) : hashOrHeight;
    if (hash === undefined) return undefined;
    const header = await this.getBlockHeader(hash);
    if (header === undefined) return undefined;
    checkHeightAsked('esplora', hashOrHeight, header);
    const raw = await this.getParsed(`/block/${hash}/raw`, (r) => verifiedBlock('esplora', hash, r.body));
    if (raw === undefined) return undefined;
    // prevHash and time come from the verified header bytes, not from the JSON beside them.
    return {
      ...header,
      ...headerFields(raw.header),
      txs: raw.txs.map(({ raw: bytes, tx }) => ({ txid: txidHex(tx), raw: bytes, tx })),
    };
  }

  async getTransaction(txid: string): Promise<TxWithStatus | undefined> {
    const held = this.confirmed.get(txid);
    if (held !== undefined) {
      const status = await this.getTxStatus(txid);
      if (status?.confirmed === true && status.blockHash === held.blockHash)
        return heldTx(txid, held, status);
      // Its block left the active chain: the transaction may now be unconfirmed, or confirmed elsewhere.
      this.confirmed.drop(txid);
    }
    const got = await this.getParsed(`/tx/${txid}/hex`, (r) => {
      const text = r.text().trim();
      if (!/^(?:[0-9a-f]{2})+$/.test(text)) {
        throw new TransientFault(
          `GET /tx/${txid}/hex: unexpected body ${JSON.stringify(this.scrub(text.slice(0, 80)))}`,
        );
      }
      const raw = hexToBytes(text, 'transaction');
      return { raw, tx: verifiedTx('esplora', txid, raw) };
    });
    if (got === undefined) return undefined;
    // Two requests: the bytes may be a version replaced before the status was read. Only the block's own
    // bytes are ever kept (keptFromBlock).
    const status = (await this.getTxStatus(txid)) ?? { confirmed: false, inMempool: false };
    return keptFromBlock(this.confirmed, (hash) => this.getBlock(hash), { txid, ...got, status });
  }

  async getTxStatus(txid: string): Promise<TxStatus | undefined> {
    const s = await this.getJson(`/tx/${txid}/status`, statusShape);
    return s === undefined ? undefined : toStatus(s);
  }

  async getOutspend(txid: string, vout: number): Promise<Outspend> {
    const o = await this.getJson(`/tx/${txid}/outspend/${vout}`, outspendShape);
    if (o === undefined || !o.spent) return { spent: false };
    return {
      spent: true,
      txid: o.txid,
      vin: o.vin,
      status: o.status === undefined ? undefined : toStatus(o.status),
    };
  }

  async getUtxos(address: string): Promise<Utxo[]> {
    const list = (await this.getJson(`/address/${address}/utxo`, utxoShape)) ?? [];
    return list.map((u) => ({
      txid: u.txid,
      vout: u.vout,
      value: BigInt(u.value),
      script: undefined,
      confirmed: u.status.confirmed,
      height: u.status.confirmed ? u.status.block_height : undefined,
      coinbase: undefined,
    }));
  }

  /** Uses the estimate for the largest target not above `targetBlocks` (Esplora's keys: 1–25, 144, 504, 1008). */
  async estimateFee(targetBlocks: number): Promise<FeeEstimate | undefined> {
    const table = (await this.getJson('/fee-estimates', feeShape)) ?? {};
    let best: { blocks: number; rate: FeeRate } | undefined;
    for (const [key, rate] of Object.entries(table)) {
      const blocks = Number(key);
      if (!Number.isInteger(blocks) || blocks > targetBlocks) continue;
      if (best === undefined || blocks > best.blocks) best = { blocks, rate };
    }
    if (best === undefined) return undefined;
    return { rate: best.rate, blocks: best.blocks };
  }

  async broadcast(raw: Uint8Array, options: BroadcastOptions = {}): Promise<string> {
    const txid = txidHex(decodeTx(raw));
    if (options.maxFeeRate !== undefined) await this.checkMaxFeeRate(raw, options.maxFeeRate.satPerKvb, txid);
    return withRetry('esplora', 'POST /tx', this.policy, async () => {
      const res = await fetchOnce(
        this.urlOf('/tx'),
        { method: 'POST', headers: this.headers, body: bytesToHex(raw) },
        this.policy.timeoutMs,
        this.limit,
      );
      if (res.status === 400) {
        const { reason, code } = parseEsploraBroadcastError(this.scrub(res.text()));
        throw new BroadcastRejectedError(reason, code, txid);
      }
      const ok = this.judge('POST /tx', res);
      const text = ok?.text().trim() ?? '';
      if (!/^[0-9a-f]{64}$/.test(text))
        throw new TransientFault(
          `POST /tx: unexpected body ${JSON.stringify(this.scrub(text.slice(0, 80)))}`,
        );
      return text;
    });
  }

  /** Esplora has no maxfeerate; refuse locally, with Core's reason, before anything leaves. */
  private async checkMaxFeeRate(raw: Uint8Array, maxSatPerKvb: bigint, txid: string): Promise<void> {
    const tx = decodeTx(raw);
    let inValue = 0n;
    for (const input of tx.inputs) {
      const parent = await this.getTransaction(hashToHex(input.prevTxid));
      const out = parent?.tx.outputs[input.vout];
      if (out === undefined) return; // unknown inputs: the node will say so
      inValue += out.value;
    }
    const fee = inValue - tx.outputs.reduce((s, o) => s + o.value, 0n);
    const exact = txVsize(tx);
    if (fee > feeForVsize({ satPerKvb: maxSatPerKvb }, exact)) {
      throw new BroadcastRejectedError(
        'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
        -25,
        txid,
        {
          metaMessages: [
            `Fee ${fee} sat for ${exact} vB exceeds ${feeRateToSatPerVb({ satPerKvb: maxSatPerKvb })} sat/vB.`,
          ],
        },
      );
    }
  }
}

function toStatus(s: z.infer<typeof statusShape>): TxStatus {
  if (s.confirmed && s.block_height !== undefined && s.block_hash !== undefined) {
    return { confirmed: true, blockHeight: s.block_height, blockHash: s.block_hash };
  }
  return { confirmed: false, inMempool: true };
}
