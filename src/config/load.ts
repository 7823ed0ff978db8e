/**
 * Loading the configuration: defaults < YAML file < `VIGIL_*` environment < command-line flags.
 *
 * Every layer is turned into a plain object, merged, and validated once by the schema, so an error is
 * reported the same way whichever layer the bad value came from — with that layer named (the YAML
 * line:col, the env variable, or the flag).
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { type ConfigLeaf, coerceLeafValue, configLeaves } from './fields.ts';
import { INLINE_SECRET_KEY, REDACTED, redactUrl } from './redact.ts';
import { configSchema, type VigilConfig } from './schema.ts';

/** Env variables with the VIGIL_ prefix that are not settings but are expected. */
const RESERVED_ENV = new Set(['VIGIL_CONFIG', 'VIGIL_LONG', 'VIGIL_BUILD_COMMIT']);

export type ConfigSources = {
  /** YAML file; when absent, `env.VIGIL_CONFIG` names one; when both are absent, no file is read. */
  file?: string | undefined;
  /** The environment (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Flag values by dotted key (`l2.chainId`), as the text the user typed. */
  flags?: Record<string, string>;
};

export type LoadedConfig = {
  config: VigilConfig;
  /** The file read, if any. */
  file: string | undefined;
  /** Things worth telling the operator that do not stop Vigil (an unknown VIGIL_* variable). */
  warnings: string[];
};

type Layer = {
  raw: Record<string, unknown>;
  origin: (path: readonly (string | number)[], atKey?: boolean) => string | undefined;
};

/** `l2.rpcUrls[1]`: the path as an operator would write it. */
export function keyPath(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg),
    '',
  );
}

type PlainObject = Record<string, unknown>;

function isPlainObject(v: unknown): v is PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function setIn(target: PlainObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (!isPlainObject(next)) node[seg] = {};
    node = node[seg] as PlainObject;
  }
  node[path[path.length - 1] as string] = value;
}

function getIn(source: unknown, path: readonly (string | number)[]): { found: boolean; value: unknown } {
  let node = source;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isPlainObject(node) && Object.hasOwn(node, seg)) node = node[String(seg)];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/** Later layers win; objects merge key by key; arrays and scalars replace. */
function merge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: PlainObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

// ---- YAML layer --------------------------------------------------------------------------------------

function nodeAt(doc: ReturnType<typeof parseDocument>, path: readonly (string | number)[], wantKey: boolean) {
  let node: unknown = doc.contents;
  let lastRange: [number, number, number] | undefined = (node as Node | null)?.range ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return lastRange;
      if (i === path.length - 1 && wantKey && isScalar(pair.key)) return pair.key.range ?? lastRange;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return lastRange;
    }
    lastRange = (node as Node | null)?.range ?? lastRange;
  }
  return lastRange;
}

/**
 * Bounds on the file: a configuration is a few kilobytes, so anything near these limits is a mistake or
 * an attack, refused before it costs memory. YAML aliases are expanded by toJS; a "billion laughs" file
 * of nested aliases would expand to gigabytes, so the expansion is capped (yaml's maxAliasCount).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_CONFIG_ALIASES = 100;

function yamlLayer(file: string): Layer {
  let text: string;
  try {
    if (statSync(file).size > MAX_CONFIG_BYTES) {
      throw new ConfigError([
        { key: '', expected: `a YAML file of at most ${MAX_CONFIG_BYTES} bytes`, origin: file },
      ]);
    }
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(
      [{ key: '', expected: `a readable YAML file, got ${code ?? 'an error'}`, origin: file }],
      {
        cause,
      },
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        key: '',
        expected: `valid YAML: ${e.message.split('\n')[0]}`,
        origin: at(e.pos[0]),
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES }) ?? {};
  } catch (cause) {
    // yaml throws a ReferenceError when aliases expand past the cap; an operator gets a config error.
    if (!(cause instanceof ReferenceError)) throw cause;
    throw new ConfigError(
      [
        {
          key: '',
          expected: /excessive alias/i.test(cause.message)
            ? `YAML whose aliases (*name) expand to at most ${MAX_CONFIG_ALIASES} nodes; this file's expand far beyond (an alias bomb?)`
            : `valid YAML: ${cause.message}`,
          origin: file,
        },
      ],
      { cause },
    );
  }
  if (!isPlainObject(raw)) {
    throw new ConfigError([{ key: '', expected: 'a YAML mapping at the top level', origin: at(0) }]);
  }
  dropEmptySections(raw, [], configLeaves());
  return {
    raw,
    origin: (path, atKey = false) => {
      const range = nodeAt(doc, path, atKey);
      return range ? at(range[0]) : file;
    },
  };
}

/**
 * A section whose keys are all commented out parses as null (`keys:` followed by comments only); that
 * means "nothing set here", so it is dropped. A null leaf stays and is reported as the bad value it is.
 */
function dropEmptySections(node: PlainObject, path: readonly string[], leaves: readonly ConfigLeaf[]): void {
  for (const [k, v] of Object.entries(node)) {
    const full = [...path, k];
    const isSection = leaves.some(
      (l) => l.path.length > full.length && full.every((seg, i) => l.path[i] === seg),
    );
    if (!isSection) continue;
    if (v === null) delete node[k];
    else if (isPlainObject(v)) dropEmptySections(v, full, leaves);
  }
}

// ---- env and flag layers -----------------------------------------------------------------------------

/** The leaves set in `raw` that cover `path`: the leaf itself, or those inside the section at `path`. */
function leavesAt(
  leaves: readonly ConfigLeaf[],
  raw: PlainObject,
  path: readonly (string | number)[],
): ConfigLeaf[] {
  return leaves.filter((l) => {
    const n = Math.min(l.path.length, path.length);
    return l.path.slice(0, n).every((seg, i) => seg === path[i]) && getIn(raw, l.path).found;
  });
}

function envLayer(env: Record<string, string | undefined>, leaves: readonly ConfigLeaf[]): Layer {
  const raw: PlainObject = {};
  for (const leaf of leaves) {
    const text = env[leaf.env];
    if (text !== undefined) setIn(raw, leaf.path, coerceLeafValue(leaf.kind, text));
  }
  return {
    raw,
    origin: (path) =>
      getIn(raw, path).found
        ? `env ${leavesAt(leaves, raw, path)
            .map((l) => l.env)
            .join(', ')}`
        : undefined,
  };
}

function flagLayer(flags: Record<string, string>, leaves: readonly ConfigLeaf[]): Layer {
  const raw: PlainObject = {};
  for (const [key, text] of Object.entries(flags)) {
    const leaf = leaves.find((l) => l.key === key);
    if (!leaf) {
      throw new ConfigError([
        { key, expected: 'a configuration key', got: JSON.stringify(key), origin: 'flag' },
      ]);
    }
    setIn(raw, leaf.path, coerceLeafValue(leaf.kind, text));
  }
  return {
    raw,
    origin: (path) =>
      getIn(raw, path).found
        ? `flag ${leavesAt(leaves, raw, path)
            .map((l) => `--${l.flag}`)
            .join(', ')}`
        : undefined,
  };
}

// ---- problems ----------------------------------------------------------------------------------------

/** Values under these paths may be secrets pasted in the wrong place: never echo them. */
function isSecretPath(path: readonly (string | number)[]): boolean {
  return (
    path[0] === 'keys' ||
    (path[0] === 'bitcoin' && path[1] === 'auth' && path[2] !== 'user') ||
    (path[0] === 'redis' && typeof path[1] === 'string' && path[1].startsWith('password')) ||
    path.some((seg) => typeof seg === 'string' && INLINE_SECRET_KEY.test(seg))
  );
}

function show(path: readonly (string | number)[], value: unknown): string {
  if (value === undefined) return 'nothing';
  if (isSecretPath(path)) return REDACTED;
  // JSON has no Infinity or NaN (`.inf` in YAML): print the number, not JSON's null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(typeof value === 'string' ? redactUrl(value) : value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function expectedText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int'
        ? 'an integer'
        : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string') return `at least ${issue.minimum} character(s)`;
      return `a number ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `at most ${issue.maximum} item(s)`;
      return `a number ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    default:
      return issue.message;
  }
}

function problemsOf(
  error: z.ZodError,
  merged: unknown,
  layers: readonly Layer[],
  leaves: readonly ConfigLeaf[],
): ConfigProblem[] {
  const originOf = (path: readonly (string | number)[], atKey = false) => {
    for (const layer of [...layers].reverse()) {
      if (getIn(layer.raw, path).found) return layer.origin(path, atKey);
    }
    return getIn(merged, path).found ? 'default' : undefined;
  };
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const siblings = leaves
        .filter((l) => l.path.length > path.length && path.every((seg, i) => l.path[i] === seg))
        .map((l) => l.path[path.length] as string);
      for (const k of issue.keys) {
        const full = [...path, k];
        const hint = INLINE_SECRET_KEY.test(k)
          ? 'a file path or env variable name in its place (secrets never go inline)'
          : `a known key${suggest(k, siblings) ? ` (did you mean ${keyPath([...path, suggest(k, siblings) as string])}?)` : ''}`;
        problems.push({
          key: keyPath(full),
          expected: hint,
          got: show(full, getIn(merged, full).value),
          origin: originOf(full, true),
        });
      }
      continue;
    }
    const { value } = getIn(merged, path);
    const keyMaterial = path[0] === 'keys' && path.length === 2 && typeof value === 'string';
    problems.push({
      key: keyPath(path),
      expected: keyMaterial
        ? '{ file: <path> } or { env: <NAME> }: key material never goes in the config'
        : expectedText(issue),
      got: show(path, value),
      origin: originOf(path),
    });
  }
  return problems;
}

/** Loads, merges and validates the configuration. Throws ConfigError naming every bad key. */
export function loadConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const leaves = configLeaves();
  const file = sources.file ?? env.VIGIL_CONFIG;
  const layers: Layer[] = [];
  if (file !== undefined && file !== '') layers.push(yamlLayer(file));
  layers.push(envLayer(env, leaves));
  layers.push(flagLayer(sources.flags ?? {}, leaves));

  const merged = layers.reduce<unknown>((acc, l) => merge(acc, l.raw), {});
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(problemsOf(result.error, merged, layers, leaves));
  const config = result.data;

  const referenced = new Set([
    config.keys.watcher?.env,
    config.bitcoin.auth.passwordEnv,
    config.redis.passwordEnv,
  ]);
  const known = new Set(leaves.map((l) => l.env));
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('VIGIL_') || known.has(name) || RESERVED_ENV.has(name) || referenced.has(name))
      continue;
    const hint = suggest(name, [...known]);
    warnings.push(`${name} is not a Vigil setting and is ignored${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  return { config, file: file || undefined, warnings };
}

/** The defaults alone: what Vigil runs with when nothing is configured. */
export function defaultConfig(): VigilConfig {
  return configSchema.parse({});
}
