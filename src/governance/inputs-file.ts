/**
 * The JSON inputs file (docs/inputs-format.md): genesis options plus inputs in L2 order, with every
 * uint as a decimal string. Parsing names the first problem by its JSON path.
 */
import { z } from 'zod';
import { InputsFileError } from './errors.ts';
import type { Address, GovernanceInput, Hash32, ProposalAction } from './inputs.ts';
import { PARAM_KEYS, type ParamKey } from './params.ts';
import type { GenesisOptions } from './state.ts';

export const INPUTS_FORMAT = 'vigil-governance-inputs/1';

const uint = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a decimal string without sign or leading zeros')
  .transform((s, ctx) => {
    const v = BigInt(s);
    if (v >= 1n << 256n) {
      ctx.addIssue({ code: 'custom', message: 'exceeds uint256' });
      return z.NEVER;
    }
    return v;
  });
const index32 = z.number().int().min(0).max(0xffffffff);
const address = z
  .string()
  .regex(/^0x[0-9a-f]{40}$/, 'expected a lowercase 0x address (40 hex digits)')
  .transform((s) => s as Address);
const hash32 = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/, 'expected lowercase 0x + 64 hex digits')
  .transform((s) => s as Hash32);
const name = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected 1..32 characters of [A-Za-z0-9_-]');

const action = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('setParameter'), key: name, value: uint }),
  z.strictObject({ kind: z.literal('upgradeModule'), moduleId: name, version: uint, codeHash: hash32 }),
]);

const base = { block: uint, txIndex: index32, logIndex: index32, sender: address };
const proposalId = uint;

const input = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('registerValidator'), commissionBps: z.number().int() }),
  z.strictObject({ ...base, kind: z.literal('stake'), amount: uint }),
  z.strictObject({ ...base, kind: z.literal('unstake'), amount: uint }),
  z.strictObject({ ...base, kind: z.literal('delegate'), validator: address, amount: uint }),
  z.strictObject({ ...base, kind: z.literal('undelegate'), validator: address, amount: uint }),
  z.strictObject({ ...base, kind: z.literal('propose'), actions: z.array(action) }),
  z.strictObject({
    ...base,
    kind: z.literal('vote'),
    proposalId,
    support: z.enum(['for', 'against', 'abstain']),
  }),
  z.strictObject({ ...base, kind: z.literal('queue'), proposalId }),
  z.strictObject({ ...base, kind: z.literal('execute'), proposalId }),
  z.strictObject({ ...base, kind: z.literal('cancel'), proposalId }),
  z.strictObject({ ...base, kind: z.literal('endEpoch') }),
]);

const paramsShape = Object.fromEntries(PARAM_KEYS.map((k) => [k, uint.optional()])) as Record<
  ParamKey,
  z.ZodOptional<typeof uint>
>;

const file = z.strictObject({
  format: z.literal(INPUTS_FORMAT),
  genesis: z
    .strictObject({
      params: z.strictObject(paramsShape).optional(),
      modules: z.array(z.strictObject({ id: name, version: uint, codeHash: hash32 })).optional(),
    })
    .optional(),
  inputs: z.array(input),
  funding: z
    .record(address, z.strictObject({ balance: uint.optional(), allowance: uint.optional() }))
    .optional(),
  raw: z
    .array(
      z.strictObject({
        block: uint,
        sender: address,
        to: z.enum(['staking', 'governor', 'epochManager']),
        data: z.string().regex(/^0x([0-9a-f]{2})*$/, 'expected lowercase 0x hex of whole bytes'),
        gas: uint.optional(),
      }),
    )
    .optional(),
});

/**
 * A transaction the devnet sends as given, after the inputs of its block (docs/inputs-format.md): any
 * calldata a user can send, malformed or not. Not part of governance: the model only sees what the chain
 * makes of it.
 */
export type RawTransaction = {
  block: bigint;
  sender: Address;
  to: 'staking' | 'governor' | 'epochManager';
  data: `0x${string}`;
  gas?: bigint;
};

/**
 * How the devnet funds a sender before replaying (docs/inputs-format.md): BTR minted to it and the
 * allowance it gives Staking. Not part of governance: the model never reads it. Unlisted senders get the
 * devnet's defaults.
 */
export type SenderFunding = ReadonlyMap<Address, { balance?: bigint; allowance?: bigint }>;

export type InputsFile = {
  genesis: GenesisOptions;
  inputs: GovernanceInput[];
  funding?: SenderFunding;
  raw?: RawTransaction[];
};

type ParsedInput = z.infer<typeof input>;

function toInput(p: ParsedInput): GovernanceInput {
  const { block, txIndex, logIndex, ...rest } = p;
  const position = { block, txIndex, logIndex };
  if (rest.kind === 'propose') {
    const actions: ProposalAction[] = rest.actions.map((a) => ({ ...a }));
    return { ...rest, actions, position };
  }
  return { ...rest, position } as GovernanceInput;
}

/** Parses the text of an inputs file; throws InputsFileError naming the first problem. */
export function parseInputsFile(text: string, source = 'inputs file'): InputsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputsFileError(`${source} is not valid JSON`, { cause: err });
  }
  const parsed = file.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const first = issues[0];
    const where = first ? formatPath(first.path) : '(root)';
    throw new InputsFileError(`${source}: ${where}: ${first?.message ?? 'invalid'}`, {
      metaMessages: issues.slice(1, 6).map((i) => `also ${formatPath(i.path)}: ${i.message}`),
    });
  }
  const genesis: GenesisOptions = {};
  const g = parsed.data.genesis;
  if (g?.params) {
    const params: Partial<Record<ParamKey, bigint>> = {};
    for (const k of PARAM_KEYS) {
      const v = g.params[k];
      if (v !== undefined) params[k] = v;
    }
    genesis.params = params;
  }
  if (g?.modules) genesis.modules = g.modules;
  const out: InputsFile = { genesis, inputs: parsed.data.inputs.map(toInput) };
  if (parsed.data.funding) {
    out.funding = new Map(
      Object.entries(parsed.data.funding).map(([a, f]) => [
        a as Address,
        {
          ...(f.balance !== undefined ? { balance: f.balance } : {}),
          ...(f.allowance !== undefined ? { allowance: f.allowance } : {}),
        },
      ]),
    );
  }
  if (parsed.data.raw) {
    out.raw = parsed.data.raw.map((t) => ({
      block: t.block,
      sender: t.sender,
      to: t.to,
      data: t.data as `0x${string}`,
      ...(t.gas !== undefined ? { gas: t.gas } : {}),
    }));
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

/** Writes an inputs file (the inverse of parseInputsFile). */
export function serializeInputsFile(f: InputsFile): string {
  const genesis: Record<string, unknown> = {};
  if (f.genesis.params) {
    genesis.params = Object.fromEntries(
      Object.entries(f.genesis.params).map(([k, v]) => [k, (v as bigint).toString()]),
    );
  }
  if (f.genesis.modules) {
    genesis.modules = f.genesis.modules.map((m) => ({
      id: m.id,
      version: m.version.toString(),
      codeHash: m.codeHash,
    }));
  }
  const inputs = f.inputs.map((i) => {
    const { position, ...rest } = i;
    const out: Record<string, unknown> = {
      block: position.block.toString(),
      txIndex: position.txIndex,
      logIndex: position.logIndex,
    };
    for (const [k, v] of Object.entries(rest)) {
      if (k === 'actions') {
        out.actions = (v as ProposalAction[]).map((a) =>
          Object.fromEntries(
            Object.entries(a).map(([ak, av]) => [ak, typeof av === 'bigint' ? av.toString() : av]),
          ),
        );
      } else out[k] = typeof v === 'bigint' ? v.toString() : v;
    }
    return out;
  });
  return `${JSON.stringify({ format: INPUTS_FORMAT, genesis, inputs }, null, 2)}\n`;
}
