/**
 * simnet's mempool acceptance against Bitcoin Core's rules: each row builds a transaction that Core
 * refuses and expects Core's exact reject reason; valid counterparts show the rule is not over-eager.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SimChain } from '../../../src/bitcoin/simnet/chain.ts';
import { TxReject } from '../../../src/bitcoin/simnet/rules.ts';
import {
  controlBlock,
  taprootOutput,
  UNSPENDABLE_INTERNAL_KEY,
} from '../../../src/bitcoin/taproot/output.ts';
import { buildTapTree } from '../../../src/bitcoin/taproot/tree.ts';
import { concatBytes } from '../../../src/core/bytes.ts';
import {
  type Coin,
  coinOf,
  mineCoins,
  out,
  P2WPKH,
  P2WSH_TRUE,
  p2wsh,
  spend,
} from '../../../testkit/bitcoin/simnet/fixture.ts';

/** Minimal CScriptNum push of a positive number below 2^15. */
const numPush = (n: number): number[] => (n < 0x80 ? [0x01, n] : [0x02, n & 0xff, n >> 8]);
const CLTV_SCRIPT = (h: number) => Uint8Array.from([...numPush(h), 0xb1, 0x75, 0x51]); // <h> CLTV DROP TRUE
const CSV_SCRIPT = (n: number) => Uint8Array.from([0x01, n, 0xb2, 0x75, 0x51]); // <n> CSV DROP TRUE
const NOP5_SCRIPT = Uint8Array.from([0x51, 0xb4]); // TRUE NOP5
const DROP_TRUE = Uint8Array.from([0x75, 0x51]); // DROP TRUE

function rejectOf(fn: () => unknown): TxReject {
  try {
    fn();
  } catch (err) {
    if (err instanceof TxReject) return err;
    throw err;
  }
  throw new Error('expected a rejection, the transaction was accepted');
}

describe('simnet mempool acceptance: Core reject reasons', () => {
  let chain: SimChain;
  let coins: Coin[];
  /** Funds an output with `script` in a confirmed block. */
  const fund = (script: Uint8Array, value = 100_000n): Coin => {
    const c = coins.shift() as Coin;
    const t = spend({ coins: [c], outputs: [out(value, script), out(c.value - value - 10_000n)] });
    chain.accept(t.raw);
    chain.mine(P2WPKH);
    return coinOf(t, 0);
  };

  beforeEach(() => {
    chain = new SimChain();
    coins = mineCoins(chain, 110);
  });

  type Row = {
    name: string;
    build: () => Uint8Array;
    reason: string;
    kind?: TxReject['kind'];
    message?: RegExp;
  };
  const rows: Row[] = [
    {
      name: 'invalid signature',
      build: () => spend({ coins: [coins[0] as Coin], outputs: [out(1_000_000n)], badSig: true }).raw,
      reason:
        'mandatory-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)',
    },
    {
      name: 'policy-only script failure (upgradable NOP)',
      build: () => {
        const c = fund(p2wsh(NOP5_SCRIPT));
        return spend({ coins: [{ ...c, witness: [NOP5_SCRIPT] }], outputs: [out(c.value - 1000n)] }).raw;
      },
      reason: 'non-mandatory-script-verify-flag (NOPx reserved for soft-fork upgrades)',
    },
    {
      name: 'double spend of a confirmed spend',
      build: () => {
        const c = coins[0] as Coin;
        chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)] }).raw);
        chain.mine(P2WPKH);
        return spend({ coins: [c], outputs: [out(c.value - 5000n)] }).raw;
      },
      reason: 'bad-txns-inputs-missingorspent',
      kind: 'missing-inputs',
    },
    {
      name: 'immature coinbase spend',
      build: () => {
        const young = mineCoins(chain, 1)[0] as Coin;
        return spend({ coins: [young], outputs: [out(young.value - 1000n)] }).raw;
      },
      reason: 'bad-txns-premature-spend-of-coinbase',
    },
    {
      name: 'nLockTime in the future',
      build: () =>
        spend({ coins: [coins[0] as Coin], outputs: [out(1_000_000n)], locktime: chain.height + 2 }).raw,
      reason: 'non-final',
    },
    {
      name: 'BIP-68 relative lock by height not met',
      build: () => {
        const c = fund(P2WSH_TRUE);
        return spend({ coins: [c], outputs: [out(c.value - 1000n)], sequence: 5 }).raw;
      },
      reason: 'non-BIP68-final',
    },
    {
      name: 'OP_CHECKLOCKTIMEVERIFY not satisfied',
      build: () => {
        const script = CLTV_SCRIPT(300);
        const c = fund(p2wsh(script));
        return spend({
          coins: [{ ...c, witness: [script] }],
          outputs: [out(c.value - 1000n)],
          locktime: 100,
          sequence: 0xfffffffe,
        }).raw;
      },
      reason: 'mandatory-script-verify-flag-failed (Locktime requirement not satisfied)',
    },
    {
      name: 'OP_CHECKSEQUENCEVERIFY not satisfied',
      build: () => {
        const script = CSV_SCRIPT(10);
        const c = fund(p2wsh(script));
        return spend({ coins: [{ ...c, witness: [script] }], outputs: [out(c.value - 1000n)], sequence: 1 })
          .raw;
      },
      reason: 'mandatory-script-verify-flag-failed (Locktime requirement not satisfied)',
    },
    {
      name: 'fee below the minimum relay fee',
      build: () => spend({ coins: [coins[0] as Coin], outputs: [out((coins[0] as Coin).value - 50n)] }).raw,
      reason: 'min relay fee not met',
      message: /^min relay fee not met, 50 < \d+$/,
    },
    {
      name: 'outputs above inputs',
      build: () => spend({ coins: [coins[0] as Coin], outputs: [out((coins[0] as Coin).value + 1n)] }).raw,
      reason: 'bad-txns-in-belowout',
    },
    {
      name: 'dust output',
      build: () => spend({ coins: [coins[0] as Coin], outputs: [out(293n), out(1_000_000n)] }).raw,
      reason: 'dust',
    },
    {
      name: 'heavier than 400,000 WU',
      build: () =>
        spend({
          coins: [coins[0] as Coin],
          outputs: Array.from({ length: 2400 }, () => out(10_000n, P2WSH_TRUE)),
        }).raw,
      reason: 'tx-size',
    },
    {
      name: 'P2WSH stack item above 80 bytes',
      build: () => {
        const c = fund(p2wsh(DROP_TRUE));
        return spend({
          coins: [{ ...c, witness: [new Uint8Array(81), DROP_TRUE] }],
          outputs: [out(c.value - 1000n)],
        }).raw;
      },
      reason: 'bad-witness-nonstandard',
    },
    {
      name: 'tapscript stack item above 80 bytes',
      build: () => {
        const tree = buildTapTree({ script: DROP_TRUE });
        const tr = taprootOutput(UNSPENDABLE_INTERNAL_KEY, tree);
        const c = fund(tr.scriptPubKey);
        const witness = [new Uint8Array(81), DROP_TRUE, controlBlock(tr, 0)];
        return spend({ coins: [{ ...c, witness }], outputs: [out(c.value - 1000n)] }).raw;
      },
      reason: 'bad-witness-nonstandard',
    },
  ];

  it.each(rows)('rejects: $name → $reason', ({ build, reason, kind, message }) => {
    const raw = build();
    const err = rejectOf(() => chain.accept(raw));
    expect(err.reason).toBe(reason);
    expect(err.kind).toBe(kind ?? 'rejected');
    if (message) expect(err.message).toMatch(message);
    expect(chain.mempool.size).toBe(0);
  });

  it('accepts the same spends once the rule is met', () => {
    // Coinbase maturity: exactly 100 confirmations.
    const c = coins[0] as Coin;
    expect(chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)] }).raw).fee).toBe(1000n);
    // BIP-68: after 5 blocks.
    const rel = fund(P2WSH_TRUE);
    const relSpend = spend({ coins: [rel], outputs: [out(rel.value - 1000n)], sequence: 5 });
    chain.mine(P2WPKH);
    chain.mine(P2WPKH);
    chain.mine(P2WPKH);
    expect(rejectOf(() => chain.accept(relSpend.raw)).reason).toBe('non-BIP68-final');
    chain.mine(P2WPKH);
    expect(chain.accept(relSpend.raw).txid).toBe(relSpend.txid);
    // CLTV: locktime past the script's height, and final for the chain.
    const script = CLTV_SCRIPT(chain.height - 1);
    const lock = fund(p2wsh(script));
    const ok = spend({
      coins: [{ ...lock, witness: [script] }],
      outputs: [out(lock.value - 1000n)],
      locktime: chain.height,
      sequence: 0xfffffffe,
    });
    expect(chain.accept(ok.raw).txid).toBe(ok.txid);
  });

  it('accepts non-standard transactions when standardness is off, never invalid ones', () => {
    chain.standardness = false;
    const c = fund(p2wsh(DROP_TRUE));
    const big = spend({
      coins: [{ ...c, witness: [new Uint8Array(81), DROP_TRUE] }],
      outputs: [out(c.value - 1000n)],
    });
    expect(chain.accept(big.raw).txid).toBe(big.txid);
    const nop = fund(p2wsh(NOP5_SCRIPT));
    expect(
      chain.accept(
        spend({ coins: [{ ...nop, witness: [NOP5_SCRIPT] }], outputs: [out(nop.value - 1000n)] }).raw,
      ).fee,
    ).toBe(1000n);
    const bad = spend({ coins: [coins[1] as Coin], outputs: [out(1_000_000n)], badSig: true });
    expect(rejectOf(() => chain.accept(bad.raw)).reason).toMatch(/^mandatory-script-verify-flag-failed/);
  });

  it('treats a resubmission as known and a witness-malleated one as the same transaction', () => {
    const c = coins[0] as Coin;
    const t = spend({ coins: [c], outputs: [out(c.value - 1000n)] });
    chain.accept(t.raw);
    expect(rejectOf(() => chain.accept(t.raw)).reason).toBe('txn-already-in-mempool');
  });
});

describe('simnet replacement (BIP-125 rules as Core 28 applies them)', () => {
  let chain: SimChain;
  let coins: Coin[];
  beforeEach(() => {
    chain = new SimChain();
    coins = mineCoins(chain, 105);
  });

  it('replaces with a higher fee and feerate, evicting descendants', () => {
    const c = coins[0] as Coin;
    const a = spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] });
    chain.accept(a.raw);
    const child = spend({ coins: [coinOf(a)], outputs: [out(c.value - 3000n)] });
    chain.accept(child.raw);
    const b = spend({ coins: [c], outputs: [out(c.value - 5000n)] });
    const r = chain.accept(b.raw);
    expect(new Set(r.replaced)).toEqual(new Set([a.txid, child.txid]));
    expect([...chain.mempool.entries.keys()]).toEqual([b.txid]);
  });

  type Row = { name: string; reason: string; debug: RegExp; setup: (c: Coin) => Uint8Array };
  const rows: Row[] = [
    {
      name: 'same fee',
      reason: 'insufficient fee',
      debug: /new feerate .* <= old feerate/,
      setup: (c) => {
        chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] }).raw);
        return spend({ coins: [c], outputs: [out(c.value - 1000n, p2wsh(DROP_TRUE))] }).raw;
      },
    },
    {
      name: 'higher feerate but less than the replaced package paid',
      reason: 'insufficient fee',
      debug: /less fees than conflicting txs/,
      setup: (c) => {
        const a = spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] });
        chain.accept(a.raw);
        chain.accept(spend({ coins: [coinOf(a)], outputs: [out(c.value - 100_000n)] }).raw);
        return spend({ coins: [c], outputs: [out(c.value - 5000n)] }).raw;
      },
    },
    {
      name: 'not enough extra fee to pay for its own relay',
      reason: 'insufficient fee',
      debug: /not enough additional fees to relay/,
      setup: (c) => {
        chain.accept(spend({ coins: [c], outputs: [out(c.value - 10_000n)] }).raw);
        return spend({ coins: [c], outputs: [out(c.value - 10_050n)] }).raw;
      },
    },
    {
      name: 'a new unconfirmed input',
      reason: 'replacement-adds-unconfirmed',
      debug: /adds unconfirmed input, idx 1/,
      setup: (c) => {
        chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)] }).raw);
        const other = coins[1] as Coin;
        const d = spend({ coins: [other], outputs: [out(other.value - 1000n, P2WSH_TRUE)] });
        chain.accept(d.raw);
        return spend({ coins: [c, coinOf(d)], outputs: [out(c.value + other.value - 200_000n)] }).raw;
      },
    },
  ];

  it.each(rows)('refuses a replacement with $name', ({ reason, debug, setup }) => {
    const raw = setup(coins[0] as Coin);
    const before = [...chain.mempool.entries.keys()];
    const err = rejectOf(() => chain.accept(raw));
    expect(err.reason).toBe(reason);
    expect(err.debug).toMatch(debug);
    expect([...chain.mempool.entries.keys()]).toEqual(before);
  });

  it('without full RBF, refuses to replace a non-signalling transaction', () => {
    const strict = new SimChain({ fullRbf: false });
    const [c] = mineCoins(strict, 101) as [Coin];
    strict.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)], sequence: 0xfffffffe }).raw);
    const err = rejectOf(() => strict.accept(spend({ coins: [c], outputs: [out(c.value - 9000n)] }).raw));
    expect(err.reason).toBe('txn-mempool-conflict');
  });

  it('without full RBF, a signalling parent does not make its non-signalling child replaceable (as Core)', () => {
    const strict = new SimChain({ fullRbf: false });
    const [c] = mineCoins(strict, 101) as [Coin];
    const parent = spend({ coins: [c], outputs: [out(c.value - 1000n, P2WSH_TRUE)] });
    strict.accept(parent.raw);
    const child = coinOf(parent);
    strict.accept(spend({ coins: [child], outputs: [out(child.value - 1000n)], sequence: 0xfffffffe }).raw);
    const err = rejectOf(() =>
      strict.accept(spend({ coins: [child], outputs: [out(child.value - 20_000n)] }).raw),
    );
    expect(err.reason).toBe('txn-mempool-conflict');
  });
});

describe('simnet mining: CPFP by ancestor feerate', () => {
  it('mines a low-fee parent ahead of a richer stranger when its child pays for both', () => {
    // Room for about 900 WU of transactions besides the coinbase reserve.
    const chain = new SimChain({ blockMaxWeight: 4000 + 900 });
    const coins = mineCoins(chain, 103);
    const [c0, c1] = coins as [Coin, Coin];
    const parent = spend({ coins: [c0], outputs: [out(c0.value - 125n, P2WSH_TRUE)] }); // ~1 sat/vB
    chain.accept(parent.raw);
    const stranger = spend({ coins: [c1], outputs: [out(c1.value - 1_100n)] }); // ~10 sat/vB
    chain.accept(stranger.raw);
    const child = spend({ coins: [coinOf(parent)], outputs: [out(c0.value - 20_000n)] }); // ~230 sat/vB
    chain.accept(child.raw);
    expect(chain.mempoolByFeerate()[0]).toBe(child.txid);

    const block = chain.mine(P2WPKH);
    expect(block.txs.map((t) => t.txid).slice(1)).toEqual([parent.txid, child.txid]);
    expect([...chain.mempool.entries.keys()]).toEqual([stranger.txid]);
    // The coinbase collects subsidy and both fees.
    expect(block.txs[0]?.tx.outputs[0]?.value).toBe(
      5_000_000_000n + 125n + (c0.value - 125n - (c0.value - 20_000n)),
    );
    expect(
      chain
        .mine(P2WPKH)
        .txs.map((t) => t.txid)
        .slice(1),
    ).toEqual([stranger.txid]);
  });

  it('testmempoolaccept sees a 25-transaction chain as a package and keeps nothing', () => {
    const chain = new SimChain();
    const [c] = mineCoins(chain, 101) as [Coin];
    const raws: Uint8Array[] = [];
    let prev: Coin = c;
    for (let i = 0; i < 26; i++) {
      const t = spend({ coins: [prev], outputs: [out(prev.value - 1000n, P2WSH_TRUE)] });
      raws.push(t.raw);
      prev = coinOf(t);
    }
    const results = chain.testAccept(raws.slice(0, 25));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(chain.mempool.size).toBe(0);
    const over = chain.testAccept(raws);
    expect(over[25]?.ok).toBe(false);
    expect(over[25]?.ok === false && over[25].error.reason).toBe('too-long-mempool-chain');
  });
});

describe('simnet blocks', () => {
  it('builds blocks whose header commits to the merkle root and the parent', async () => {
    const { hash256 } = await import('../../../src/core/hashes.ts');
    const { merkleRoot } = await import('../../../src/bitcoin/simnet/block-builder.ts');
    const { txidBytes, hashToHex } = await import('../../../src/bitcoin/codec/codec.ts');
    const chain = new SimChain();
    const [c] = mineCoins(chain, 101) as [Coin];
    chain.accept(spend({ coins: [c], outputs: [out(c.value - 1000n)] }).raw);
    const b = chain.mine(P2WPKH);
    expect(hashToHex(hash256(b.header))).toBe(b.hash);
    expect(b.header.slice(4, 36)).toEqual(
      concatBytes(hash256(chain.blockAt(b.height - 1)?.header as Uint8Array)),
    );
    expect(b.header.slice(36, 68)).toEqual(merkleRoot(b.txs.map((t) => txidBytes(t.tx))));
    expect(chain.blockAt(0)?.hash).toBe('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
  });
});
