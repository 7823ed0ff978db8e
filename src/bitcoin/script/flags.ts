/** Script verification flags, with Bitcoin Core's names and bit values (script/interpreter.h). */
export const ScriptFlag = {
  NONE: 0,
  P2SH: 1 << 0,
  STRICTENC: 1 << 1,
  DERSIG: 1 << 2,
  LOW_S: 1 << 3,
  NULLDUMMY: 1 << 4,
  SIGPUSHONLY: 1 << 5,
  MINIMALDATA: 1 << 6,
  DISCOURAGE_UPGRADABLE_NOPS: 1 << 7,
  CLEANSTACK: 1 << 8,
  CHECKLOCKTIMEVERIFY: 1 << 9,
  CHECKSEQUENCEVERIFY: 1 << 10,
  WITNESS: 1 << 11,
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: 1 << 12,
  MINIMALIF: 1 << 13,
  NULLFAIL: 1 << 14,
  WITNESS_PUBKEYTYPE: 1 << 15,
  CONST_SCRIPTCODE: 1 << 16,
  TAPROOT: 1 << 17,
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: 1 << 18,
  DISCOURAGE_OP_SUCCESS: 1 << 19,
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: 1 << 20,
} as const;

export type ScriptFlagName = Exclude<keyof typeof ScriptFlag, 'NONE'>;

export const ALL_FLAG_NAMES = Object.keys(ScriptFlag).filter((n) => n !== 'NONE') as ScriptFlagName[];

/** Consensus rules in force today (Core's MANDATORY_SCRIPT_VERIFY_FLAGS plus the soft forks). */
export const CONSENSUS_FLAGS =
  ScriptFlag.P2SH |
  ScriptFlag.DERSIG |
  ScriptFlag.NULLDUMMY |
  ScriptFlag.CHECKLOCKTIMEVERIFY |
  ScriptFlag.CHECKSEQUENCEVERIFY |
  ScriptFlag.WITNESS |
  ScriptFlag.TAPROOT;

/** Core's STANDARD_SCRIPT_VERIFY_FLAGS (policy/policy.h, v26). */
export const STANDARD_FLAGS =
  CONSENSUS_FLAGS |
  ScriptFlag.STRICTENC |
  ScriptFlag.MINIMALDATA |
  ScriptFlag.DISCOURAGE_UPGRADABLE_NOPS |
  ScriptFlag.CLEANSTACK |
  ScriptFlag.MINIMALIF |
  ScriptFlag.NULLFAIL |
  ScriptFlag.LOW_S |
  ScriptFlag.DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM |
  ScriptFlag.WITNESS_PUBKEYTYPE |
  ScriptFlag.CONST_SCRIPTCODE |
  ScriptFlag.DISCOURAGE_UPGRADABLE_TAPROOT_VERSION |
  ScriptFlag.DISCOURAGE_OP_SUCCESS |
  ScriptFlag.DISCOURAGE_UPGRADABLE_PUBKEYTYPE;

export class UnknownScriptFlagError extends Error {
  override name = 'UnknownScriptFlagError';
  constructor(flag: string) {
    super(`Unknown script verification flag "${flag}" (known: NONE, ${ALL_FLAG_NAMES.join(', ')})`);
  }
}

/** Parses Core's comma-separated flag list ("P2SH,WITNESS", "NONE", ""). */
export function parseFlags(list: string): number {
  let flags = 0;
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '' || name === 'NONE') continue;
    const bit = (ScriptFlag as Record<string, number>)[name];
    if (bit === undefined) throw new UnknownScriptFlagError(name);
    flags |= bit;
  }
  return flags;
}

export function formatFlags(flags: number): string {
  const names = ALL_FLAG_NAMES.filter((n) => (flags & ScriptFlag[n]) !== 0);
  return names.length === 0 ? 'NONE' : names.join(',');
}
