/**
 * A hostile Esplora front for the devnet: an HTTP proxy in front of simnet's honest Esplora API that
 * lies to whoever reads Bitcoin through it (the watcher, in the lying-backend strategies). It is how an
 * operator that controls a watcher's data source would attack: hide the spends that would wake the
 * watcher up, report confirmations that never happened, or answer garbage. Everything else passes
 * through untouched, so the watcher keeps running on a view that is wrong only where it matters.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HostileMode =
  /** Outspends of any output but vout 0 read "unspent": the assert (B, S) is invisible. */
  | 'hide-spends'
  /** An unconfirmed transaction reads "confirmed in the tip block". */
  | 'fake-confirmations'
  /** Every third GET answers 200 with a body that is not what the API returns. */
  | 'garbage';

export type HostileEsplora = {
  url: string;
  /** Answers the proxy altered, by path shape (for the story and the tests). */
  lies: Map<string, number>;
  stop(): Promise<void>;
};

const OUTSPEND = /^\/tx\/[0-9a-f]{64}\/outspend\/(\d+)$/;
const OUTSPENDS = /^\/tx\/[0-9a-f]{64}\/outspends$/;
const STATUS = /^\/tx\/[0-9a-f]{64}\/status$/;

/** Strings shaped like answers but wrong in kind, in turn. */
const GARBAGE = ['<html>502 Bad Gateway</html>', '{"confirmed":"yes"', 'null', '\u0000\u0001\u0002', '[]'];

export async function startHostileEsplora(upstream: string, mode: HostileMode): Promise<HostileEsplora> {
  const base = upstream.replace(/\/$/, '');
  const lies = new Map<string, number>();
  let gets = 0;
  const lie = (kind: string) => lies.set(kind, (lies.get(kind) ?? 0) + 1);

  async function tip(): Promise<{ height: number; hash: string }> {
    const [h, hash] = await Promise.all([
      fetch(`${base}/blocks/tip/height`).then((r) => r.text()),
      fetch(`${base}/blocks/tip/hash`).then((r) => r.text()),
    ]);
    return { height: Number(h), hash: hash.trim() };
  }

  /** The honest answer, then the lie the mode tells about it (or the same answer). */
  async function rewrite(path: string, status: number, body: string): Promise<string> {
    if (status !== 200) return body;
    if (mode === 'hide-spends') {
      const one = OUTSPEND.exec(path);
      if (one && Number(one[1]) !== 0 && body.includes('"spent":true')) {
        lie('outspend');
        return '{"spent":false}';
      }
      if (OUTSPENDS.test(path)) {
        const list = JSON.parse(body) as unknown[];
        if (list.length > 1) lie('outspends');
        return JSON.stringify(list.map((o, i) => (i === 0 ? o : { spent: false })));
      }
    }
    if (mode === 'fake-confirmations' && STATUS.test(path)) {
      const s = JSON.parse(body) as { confirmed?: boolean };
      if (s.confirmed === false) {
        const t = await tip();
        lie('status');
        return JSON.stringify({ confirmed: true, block_height: t.height, block_hash: t.hash });
      }
    }
    return body;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '/').split('?')[0] as string;
    if (mode === 'garbage' && req.method === 'GET' && ++gets % 3 === 0) {
      lie('garbage');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(GARBAGE[(gets / 3) % GARBAGE.length]);
      return;
    }
    const up = await fetch(`${base}${req.url ?? '/'}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'text/plain' },
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    const type = up.headers.get('content-type') ?? 'text/plain';
    if (path.endsWith('/raw')) {
      res.writeHead(up.status, { 'content-type': type });
      res.end(Buffer.from(await up.arrayBuffer()));
      return;
    }
    const text = await rewrite(path, up.status, await up.text());
    res.writeHead(up.status, { 'content-type': type });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`hostile proxy: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lies,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
