/**
 * Import of a claim graph document (src/dispute/game/claim-import.ts): a document the operator published
 * imports to the same transactions and presignatures, whatever its formatting; every defect an operator
 * could slip in is refused with its name and place, before any costly work where it can be.
 */
import { describe, expect, it } from 'vitest';
import { txid } from '../../../src/bitcoin/tx/serialize.ts';
import { bytesToHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hashes.ts';
import {
  type ClaimDocument,
  claimDocumentHash,
  claimGraphToDocument,
} from '../../../src/dispute/game/claim-document.ts';
import { assertLabels, buildClaimGraph, type ClaimGraph } from '../../../src/dispute/game/claim-graph.ts';
import {
  type ClaimExpectations,
  claimDocumentLimits,
  importClaimGraph,
  importClaimGraphYielding,
} from '../../../src/dispute/game/claim-import.ts';
import {
  collectGamePresignatures,
  type PresignedTxs,
  presignGame,
} from '../../../src/dispute/game/game-spend.ts';
import { REGTEST_SEARCH } from '../../../src/dispute/game/grid.ts';
import { GraphImportError } from '../../../src/dispute/graph/errors.ts';
import { claimExpectationsOf, makeClaimFixture } from '../../../testkit/dispute/claim-fixture.ts';

const fx = makeClaimFixture({ shape: REGTEST_SEARCH, challengers: 2 });
const graph = buildClaimGraph(fx.spec);
const presign = (set: PresignedTxs) =>
  collectGamePresignatures(
    set,
    fx.secrets.covenant.map((s) => presignGame(set, s)),
  );
const sigs = { claim: presign(graph), games: graph.games.map(presign) };
const document = claimGraphToDocument(graph, sigs);
const text = JSON.stringify(document);

const expectations: ClaimExpectations = {
  ...claimExpectationsOf(fx.spec, { value: graph.claim.value, script: graph.claim.output.scriptPubKey }),
  commitment: claimDocumentHash(document),
};

/** The defect and place an import names, or 'imported'. */
function verdict(doc: string | ClaimDocument, expect: Partial<ClaimExpectations> = {}): string {
  try {
    importClaimGraph(typeof doc === 'string' ? doc : JSON.stringify(doc), {
      ...expectations,
      commitment: undefined,
      ...expect,
    } as ClaimExpectations);
    return 'imported';
  } catch (err) {
    if (!(err instanceof GraphImportError)) throw err;
    return `${err.defect} at ${err.where}: ${err.reason}`;
  }
}

const copy = (): ClaimDocument => structuredClone(document);
const ids = (g: ClaimGraph) => [
  ...[...g.txs.values()].map((t) => bytesToHex(txid(t.tx))),
  ...g.games.flatMap((game) => [...game.txs.values()].map((t) => bytesToHex(txid(t.tx)))),
];

describe('importing a claim graph', () => {
  it('rebuilds the same transactions and takes the presignatures, however the document is formatted', async () => {
    const imported = importClaimGraph(text, expectations);
    expect(ids(imported.graph)).toEqual(ids(graph));
    expect(imported.hash).toEqual(claimDocumentHash(document));
    expect(imported.sigs.claim).toEqual(sigs.claim);
    expect(imported.sigs.games).toEqual(sigs.games);
    const pretty = JSON.stringify(document, null, 2);
    const again = await importClaimGraphYielding(pretty, expectations);
    expect(again.hash).toEqual(imported.hash);
    expect(pretty.length).toBeLessThan(claimDocumentLimits(expectations).maxBytes);
  });

  it('refuses another document than the committed one, another pre-state, network, parameters or covenant', () => {
    expect(verdict(text, { commitment: sha256(utf8('another')) })).toMatch(/^HASH_MISMATCH at document/);
    expect(verdict(text, { agreedImageRoot: sha256(utf8('another root')) })).toMatch(
      /^PRESTATE_MISMATCH at agreedImageRoot: .* is not the previous epoch's root the L2 committed/,
    );
    // Another claim outpoint than the registry opened the claim on (the same script and value elsewhere).
    const at = graph.spec.claim;
    expect(verdict(text, { claimOutpoint: { txid: at.txid, vout: at.vout + 1 } })).toMatch(
      /^CLAIM_MISMATCH at claim: not the claim outpoint the L2 registry opened the claim on/,
    );
    expect(verdict(text, { claimOutpoint: { txid: sha256(utf8('another claim')), vout: at.vout } })).toMatch(
      /^CLAIM_MISMATCH at claim/,
    );
    expect(verdict(text, { claimOutpoint: at })).toBe('imported');
    expect(verdict(text, { network: 'signet' })).toMatch(/^PARAMETER_MISMATCH at network/);
    expect(verdict(text, { epoch: 8n })).toMatch(/^PARAMETER_MISMATCH at epoch: 7, expected 8/);
    const move = copy();
    move.timelocks.move = 2;
    expect(verdict(move)).toMatch(/^TIMELOCK_MISMATCH at timelocks\.move: 2 blocks, the protocol says 3/);
    const bond = copy();
    bond.values.bond = '1';
    expect(verdict(bond)).toMatch(/^AMOUNT_MISMATCH at values\.bond/);
    const ladder = copy();
    ladder.timeoutFeeRates = ['1', '64'];
    expect(verdict(ladder)).toMatch(/^PARAMETER_MISMATCH at timeoutFeeRates/);
    const program = copy();
    program.program = bytesToHex(sha256(utf8('another program')));
    expect(verdict(program)).toMatch(/^PARAMETER_MISMATCH at program/);
    expect(
      verdict(text, { committee: [fx.spec.covenant[2] as Uint8Array, fx.spec.covenant[1] as Uint8Array] }),
    ).toMatch(/^KEY_MISMATCH at covenant/);
    expect(
      verdict(text, {
        claimPrevout: { value: graph.claim.value - 1n, script: graph.claim.output.scriptPubKey },
      }),
    ).toMatch(/^AMOUNT_MISMATCH at claim \(on chain\)/);
    // Another script behind the same outpoint: the kick-off's txid would match, its values bind nothing.
    const otherScript = graph.games[0]?.bond.scriptPubKey as Uint8Array;
    expect(verdict(text, { claimPrevout: { value: graph.claim.value, script: otherScript } })).toMatch(
      /^SCRIPT_MISMATCH at claim \(on chain\)/,
    );
    const challengeFee = copy();
    challengeFee.challengeFeeRate = '5';
    expect(verdict(challengeFee)).toMatch(
      /^PARAMETER_MISMATCH at challengeFeeRate: 5 sat\/vB, the protocol says 1/,
    );
    // T_c as governance has it at the claim's epoch: the document must carry it, and it must stay below T_a.
    expect(verdict(text, { governedChallengeWindow: fx.spec.timelocks.challenge })).toBe('imported');
    expect(verdict(text, { governedChallengeWindow: 7 })).toMatch(
      /^TIMELOCK_MISMATCH at timelocks\.challenge: 6 blocks; the governed challengeWindow in force at epoch 7 is 7/,
    );
  });

  it('imports a claim output funded above what the posted challengers need, as the document states it; refuses a value other than the chain’s or below the need', () => {
    // Funded for more challengers than posted (a registrant that never posts must not make it unimportable).
    const funded = graph.claim.value + 250_000n;
    const more = buildClaimGraph({ ...fx.spec, claimValue: funded });
    const doc = claimGraphToDocument(more, { claim: presign(more), games: more.games.map(presign) });
    expect(doc.claim.value).toBe(funded.toString());
    const prevout = { value: funded, script: more.claim.output.scriptPubKey };
    expect(verdict(doc, { claimPrevout: prevout })).toBe('imported');
    // The document states one value and the chain holds another.
    expect(verdict(doc, { claimPrevout: { ...prevout, value: funded + 1n } })).toMatch(
      new RegExp(
        `^AMOUNT_MISMATCH at claim \\(on chain\\): ${funded + 1n} sats on chain; the document says ${funded}`,
      ),
    );
    // A value below what the graph needs cannot build.
    const short = copy();
    short.claim.value = (graph.claim.value - 1n).toString();
    expect(verdict(short, { claimPrevout: { ...prevout, value: graph.claim.value - 1n } })).toMatch(
      /^AMOUNT_MISMATCH at claim: The claim output holds \d+ sats; a claim of 2 challengers needs at least/,
    );
    // The stated value is under the document's hash like everything else.
    const edited = structuredClone(doc);
    edited.claim.value = (funded - 1n).toString();
    expect(claimDocumentHash(edited)).not.toEqual(claimDocumentHash(doc));
  });

  it('refuses challengers other than the L2 lists: one left out, another coin, keys other than the bundle posted', () => {
    const fewer = copy();
    fewer.challengers = fewer.challengers.slice(0, 1);
    fewer.signatures.games = fewer.signatures.games.slice(0, 1);
    expect(verdict(fewer)).toMatch(/^CHALLENGER_MISMATCH at challengers: 1 challengers; the L2 lists 2/);
    const coin = copy();
    (coin.challengers[1] as ClaimDocument['challengers'][number]).bondCoin.vout = 9;
    expect(verdict(coin)).toMatch(/^CHALLENGER_MISMATCH at challengers\[1\]\.bondCoin/);
    const keys = copy();
    const c2 = keys.challengers[1] as ClaimDocument['challengers'][number];
    const [l1, l2] = Object.keys(c2.keys).filter(
      (l) => (c2.keys[l] as string).length === (c2.keys[Object.keys(c2.keys)[0] as string] as string).length,
    ) as [string, string];
    [c2.keys[l1], c2.keys[l2]] = [c2.keys[l2] as string, c2.keys[l1] as string];
    expect(verdict(keys)).toMatch(/^CHALLENGER_MISMATCH at challengers\[1\]\.keys\./);
    // A bundle on the L2 that lacks a key would let the operator write that key into the document.
    const listed = expectations.challengers.map((c, w) =>
      w === 1 ? { ...c, keys: new Map([...c.keys].slice(1)) } : c,
    );
    expect(verdict(text, { challengers: listed })).toMatch(
      /^CHALLENGER_MISMATCH at challengers\[1\]\.keys: the L2's bundle lists \d+ keys; the key plan has \d+/,
    );
  });

  it('refuses a Winternitz key used twice, an assert key that differs between games, a key of the wrong size, missing or unplanned', () => {
    const reuse = copy();
    const [g0, g1] = reuse.challengers as [
      ClaimDocument['challengers'][number],
      ClaimDocument['challengers'][number],
    ];
    const label = Object.keys(g1.operatorKeys).find(
      (l) => !assertLabels(REGTEST_SEARCH).includes(l),
    ) as string;
    g1.operatorKeys[label] = g0.operatorKeys[label] as string;
    expect(verdict(reuse)).toMatch(
      new RegExp(
        `^WOTS_KEY_REUSE at challengers\\[1\\]\\.operatorKeys\\.${label.replace(/[.]/g, '\\.')}\\[0\\]: the same Winternitz chain as challengers\\[0\\]`,
      ),
    );
    const earlier = new Set([(g0.operatorKeys[label] as string).slice(0, 40)]);
    expect(verdict(text, { knownWotsHashes: earlier })).toMatch(
      /^WOTS_KEY_REUSE at .*already used by an earlier graph/,
    );
    const steps = assertLabels(REGTEST_SEARCH)[0] as string;
    const shared = copy();
    const s1 = shared.challengers[1] as ClaimDocument['challengers'][number];
    s1.operatorKeys[steps] = `${(s1.operatorKeys[steps] as string).slice(0, -2)}00`;
    expect(verdict(shared)).toMatch(
      new RegExp(`^KEY_MISMATCH at challengers\\[1\\]\\.operatorKeys\\.${steps}`),
    );
    const short = copy();
    (short.challengers[0] as ClaimDocument['challengers'][number]).operatorKeys[label] = '00'.repeat(20);
    expect(verdict(short)).toMatch(/^WOTS_KEY_SHAPE at challengers\[0\]\.operatorKeys\..*20 bytes/);
    const missing = copy();
    delete (missing.challengers[0] as ClaimDocument['challengers'][number]).operatorKeys[label];
    expect(verdict(missing)).toMatch(/^WOTS_KEY_SHAPE at challengers\[0\]\.operatorKeys\..*missing/);
    const extra = copy();
    (extra.challengers[0] as ClaimDocument['challengers'][number]).operatorKeys['spare.key'] = '00'.repeat(
      20,
    );
    expect(verdict(extra)).toMatch(/^MALFORMED at challengers\[0\]\.operatorKeys\.spare\.key/);
  });

  it('refuses a presignature that does not verify for the rebuilt transaction, naming the game, member and input; and a short list', () => {
    const flipped = copy();
    const list = (flipped.signatures.games[1] as string[][])[1] as string[];
    list[5] = `${(list[5] as string).slice(0, 10)}${(list[5] as string)[10] === '0' ? '1' : '0'}${(list[5] as string).slice(11)}`;
    expect(verdict(flipped)).toMatch(
      /^BAD_SIGNATURE at signatures\.games\[1\]\[1\] \S+ input \d+: does not verify/,
    );
    const swapped = copy();
    const own = (swapped.signatures.claim as string[][])[0] as string[];
    [own[0], own[1]] = [own[1] as string, own[0] as string];
    expect(verdict(swapped)).toMatch(/^BAD_SIGNATURE at signatures\.claim\[0\] challenge:0 input 0/);
    const short = copy();
    (short.signatures.games[0] as string[][])[2]?.pop();
    expect(verdict(short)).toMatch(/^MISSING_SIGNATURE at signatures\.games\[0\]\[2\]/);
  });

  it('refuses before parsing: another version, more bytes or deeper nesting than a valid claim has', () => {
    expect(verdict({ ...copy(), version: 3 })).toMatch(
      /^UNSUPPORTED_VERSION at version: version 3; this Vigil reads version 1 or 2/,
    );
    // Version 1 stated no claim output value (it held exactly the graph's need): still read, so a game
    // opened on one goes on after an upgrade; each version with the other's shape is refused.
    const v1 = copy();
    v1.version = 1;
    delete v1.claim.value;
    expect(verdict(v1)).toBe('imported');
    expect(verdict({ ...copy(), version: 1 })).toMatch(
      /^MALFORMED at claim\.value: version 1 has no claim\.value/,
    );
    const noValue = copy();
    delete noValue.claim.value;
    expect(verdict(noValue)).toMatch(/^MALFORMED at claim\.value: version 2 states the claim output's value/);
    const limit = claimDocumentLimits(expectations).maxBytes;
    expect(verdict(`${text}${' '.repeat(limit)}`)).toMatch(/^DOCUMENT_TOO_LARGE at document/);
    expect(verdict(`{"a":${'['.repeat(20)}${']'.repeat(20)}}`)).toMatch(/^SHAPE at /);
    expect(verdict('{"format": ')).toMatch(/^MALFORMED at document: not JSON/);
  });
});
