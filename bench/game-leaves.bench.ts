/**
 * What one game's graph holds in leaf script and Winternitz public keys (#15 acceptance 5, docs/protocol.md
 * §24.4–24.7), built by the production placement (src/dispute/game/output-leaves.ts): every disprove,
 * refusal and equivocation leaf of one game of the governance program at mainnet's shape (n = 32,
 * K = 29), with both signers' keys derived from their seeds by the key plan. The second search's leaves
 * sit once in each of its two branches (q = 1, q = 2), as the graph holds them. The transactions' own
 * small leaves (move inputs, timeouts) are the graph bench's (game-graph.bench.ts). Baseline for the
 * execution leaves: one per program position, built in the same run.
 */
import { execLeaf } from '../circuits/gvm/exec-leaf.ts';
import { MAINNET_SEARCH } from '../src/dispute/game/grid.ts';
import type { GameClaim } from '../src/dispute/game/key-plan.ts';
import { type GameLeaf, gameOutputLeaves, type KickoffKeys } from '../src/dispute/game/output-leaves.ts';
import { deriveSignerKeys, type GameKeyScope, type SignerKeys } from '../src/dispute/game/signer-keys.ts';
import { wotsPublicKey } from '../src/dispute/winternitz/keys.ts';
import { type Instruction, STEP_FIELDS, type StepField } from '../src/machine/isa.ts';
import { governanceProgram } from '../src/machine/programs/governance.ts';
import { type BenchFigure, type Benchmark, withRatio } from './harness.ts';
import { benchSecret } from './leaf-figures.ts';

const SHAPE = MAINNET_SEARCH;
const CLAIM: GameClaim = {
  network: 'regtest',
  operator: new Uint8Array(32).fill(0x66),
  epoch: 14n,
  instance: 0,
};
const CHALLENGER = new Uint8Array(32).fill(0x71);
const SEEDS = { operator: new Uint8Array(32).fill(0x0a), challenger: new Uint8Array(32).fill(0x0c) };
const SCOPE: GameKeyScope = { shape: SHAPE, claim: CLAIM, challenger: CHALLENGER };
const KICKOFF: KickoffKeys = {
  root: wotsPublicKey(benchSecret(0x7e, 0, 1, 32)),
  imageRoot: wotsPublicKey(benchSecret(0x7e, 0, 3, 32)),
  inputsRoot: wotsPublicKey(benchSecret(0x7e, 0, 4, 32)),
};

/** The inventory's kind of a leaf, from its site and name. */
function kindOf(site: string, leaf: GameLeaf): string {
  const [kind] = leaf.name.split(':') as [string];
  if (kind === 'equivocation')
    return leaf.spender === 'challenger' ? 'equivocation' : 'equivocation (challenger)';
  if (site === 'reserve') return 'assert leaves';
  if (kind === 'resign') return 'resign';
  if (kind === 'resign′' || kind === 'resign-at-read') return 'resign′';
  if (kind === 'execution')
    return leaf.name.startsWith('execution:hash.') ? 'execution (hash)' : 'execution (grouped)';
  if (leaf.spender === 'operator') return 'operator refusals';
  if (kind.startsWith('tape')) return 'tape';
  if (site.endsWith('reveal′')) return 'write step';
  return 'step';
}

/** Every leaf of one game from the signers' keys, counted by kind. */
function leafSet(keys: { operator: SignerKeys; challenger: SignerKeys }) {
  const program = governanceProgram();
  const sites = gameOutputLeaves({
    shape: SHAPE,
    program,
    agreedImageRoot: new Uint8Array(32).fill(9),
    operator: CLAIM.operator,
    challenger: CHALLENGER,
    keys,
    kickoff: KICKOFF,
  });
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (const [site, leaves] of sites) {
    for (const leaf of leaves) {
      const kind = kindOf(site, leaf);
      const k = kinds.get(kind) ?? { count: 0, bytes: 0 };
      k.count++;
      k.bytes += leaf.script.length;
      kinds.set(kind, k);
    }
  }
  const record = Object.fromEntries(STEP_FIELDS.map((f) => [f, keys.operator.get(`record.${f}`)])) as Record<
    StepField,
    NonNullable<ReturnType<SignerKeys['get']>>
  >;
  return { kinds, record, program };
}

const deriveKeys = () => ({
  operator: deriveSignerKeys(SEEDS.operator, SCOPE, 'operator'),
  challenger: deriveSignerKeys(SEEDS.challenger, SCOPE, 'challenger'),
});

function inventory(): BenchFigure[] {
  // The operator's side: derive every key, build every leaf.
  const t0 = performance.now();
  const keys = deriveKeys();
  leafSet(keys);
  const ms = performance.now() - t0;
  // An import's side: the same keys as fresh objects (parsed from a document), every leaf rebuilt.
  const copy = (m: SignerKeys): SignerKeys =>
    new Map(
      [...m].map(([label, k]) => [
        label,
        { messageBytes: k.messageBytes, hashes: k.hashes.map((h) => h.slice()) },
      ]),
    );
  const parsed = { operator: copy(keys.operator), challenger: copy(keys.challenger) };
  const t1 = performance.now();
  const { kinds, record, program } = leafSet(parsed);
  const rebuildMs = performance.now() - t1;
  const b0 = performance.now();
  let perPosition = 0;
  program.instructions.forEach((ins, pc) => {
    if (ins.op !== 'hash')
      perPosition += execLeaf(pc, ins as Instruction, record, [CHALLENGER]).script.length;
  });
  const perPositionMs = performance.now() - b0;

  let totalBytes = 0;
  let totalLeaves = 0;
  const figures: BenchFigure[] = [];
  for (const [kind, k] of kinds) {
    totalBytes += k.bytes;
    totalLeaves += k.count;
    figures.push({
      name: `dispute.game.leaves.${kind.replace(/[^a-z0-9′]+/gi, '-').replace(/^-|-$/g, '')}`,
      value: k.bytes,
      unit: `bytes of script in ${k.count} leaves`,
    });
  }
  const all = [...keys.operator.values(), ...keys.challenger.values()];
  const keyBytes = all.reduce((n, k) => n + k.hashes.length * 20, 0);
  const grouped = kinds.get('execution (grouped)')?.bytes ?? 0;
  figures.push(
    withRatio({
      name: 'dispute.game.leaves.execution',
      value: grouped,
      unit: 'bytes, the grouped execution leaves (baseline: one leaf per position)',
      baseline: perPosition,
    }),
    {
      name: 'dispute.game.leaves.total',
      value: totalBytes,
      unit: `bytes of leaf script in ${totalLeaves} leaves, one game`,
    },
    {
      name: 'dispute.game.leaves.wotsKeys',
      value: keyBytes,
      unit: `bytes of Winternitz public keys (${all.length} values), one game`,
    },
    {
      name: 'dispute.game.leaves.buildMs',
      value: Number(ms.toFixed(0)),
      unit: 'ms to derive the keys and build every leaf of one game (the operator)',
    },
    withRatio({
      name: 'dispute.game.leaves.rebuildMs',
      value: Number(rebuildMs.toFixed(0)),
      unit: 'ms to rebuild every leaf of one game from its keys, as an import does (baseline: the execution leaves alone, one per position)',
      baseline: Number(perPositionMs.toFixed(0)),
    }),
  );
  return figures;
}

export const benchmarks: Benchmark[] = [{ name: 'dispute.game.leaves', run: async () => inventory() }];
