/**
 * The settable leaves of the schema and their names in the other two sources.
 *
 * One rule names a leaf everywhere: its dotted path (`l2.rpcUrls`), split into words at each dot and at
 * each camelCase hump. Environment: `VIGIL_` + the words in UPPER_SNAKE (`VIGIL_L2_RPC_URLS`). Flags:
 * `--` + the words in kebab-case (`--l2-rpc-urls`). The table is derived from the schema, so a new key
 * gets its env variable and flag without anyone remembering to add them.
 */
import type { z } from 'zod';
import { configSchema } from './schema.ts';

export type LeafKind = 'string' | 'number' | 'boolean' | 'list';

export type ConfigLeaf = {
  /** Path segments from the root, e.g. ['l2', 'rpcUrls']. */
  path: string[];
  /** Dotted path, e.g. 'l2.rpcUrls'. */
  key: string;
  kind: LeafKind;
  env: string;
  flag: string;
  description: string;
};

type AnyDef = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
};

function words(path: readonly string[]): string[] {
  return path
    .flatMap((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(' '))
    .map((w) => w.toLowerCase());
}

export function envNameOf(path: readonly string[]): string {
  return `VIGIL_${words(path).join('_').toUpperCase()}`;
}

export function flagNameOf(path: readonly string[]): string {
  return words(path).join('-');
}

function collect(
  schema: z.ZodType,
  path: string[],
  description: string | undefined,
  out: ConfigLeaf[],
): void {
  const def = schema._zod.def as unknown as AnyDef;
  const desc = description ?? schema.description;
  const leaf = (kind: LeafKind) =>
    out.push({
      path,
      key: path.join('.'),
      kind,
      env: envNameOf(path),
      flag: flagNameOf(path),
      description: desc ?? '',
    });
  switch (def.type) {
    case 'object':
      for (const [k, v] of Object.entries(def.shape ?? {})) collect(v, [...path, k], undefined, out);
      return;
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      if (def.innerType) collect(def.innerType, path, desc, out);
      return;
    case 'pipe':
      if (def.in) collect(def.in, path, desc, out);
      return;
    case 'array':
      leaf('list');
      return;
    case 'number':
    case 'int':
      leaf('number');
      return;
    case 'boolean':
      leaf('boolean');
      return;
    default:
      leaf('string');
  }
}

let cached: ConfigLeaf[] | undefined;

/** Every settable leaf of the config schema, in schema order. */
export function configLeaves(): ConfigLeaf[] {
  if (!cached) {
    const out: ConfigLeaf[] = [];
    collect(configSchema, [], undefined, out);
    cached = out;
  }
  return cached;
}

/**
 * Turns the text of an env variable or flag into the leaf's type. A value that does not convert is
 * returned unchanged, so the schema reports it with the exact text the operator gave.
 */
export function coerceLeafValue(kind: LeafKind, raw: string): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'number': {
      if (text === '') return raw;
      const n = Number(text);
      return Number.isFinite(n) ? n : raw;
    }
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      return raw;
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    default:
      return raw;
  }
}
