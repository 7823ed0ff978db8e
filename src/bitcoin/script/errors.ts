/**
 * Script error names: Bitcoin Core's ScriptError_t without the SCRIPT_ERR_ prefix, spelled as
 * script_tests.json spells them (SCRIPT_ERR_SIG_NULLFAIL is "NULLFAIL" there).
 */
export const SCRIPT_ERROR_NAMES = [
  'OK',
  'UNKNOWN_ERROR',
  'EVAL_FALSE',
  'OP_RETURN',
  // Max sizes
  'SCRIPT_SIZE',
  'PUSH_SIZE',
  'OP_COUNT',
  'STACK_SIZE',
  'SIG_COUNT',
  'PUBKEY_COUNT',
  // Failed verify operations
  'VERIFY',
  'EQUALVERIFY',
  'CHECKMULTISIGVERIFY',
  'CHECKSIGVERIFY',
  'NUMEQUALVERIFY',
  // Logical/format/canonical errors
  'BAD_OPCODE',
  'DISABLED_OPCODE',
  'INVALID_STACK_OPERATION',
  'INVALID_ALTSTACK_OPERATION',
  'UNBALANCED_CONDITIONAL',
  // CHECKLOCKTIMEVERIFY and CHECKSEQUENCEVERIFY
  'NEGATIVE_LOCKTIME',
  'UNSATISFIED_LOCKTIME',
  // Malleability
  'SIG_HASHTYPE',
  'SIG_DER',
  'MINIMALDATA',
  'SIG_PUSHONLY',
  'SIG_HIGH_S',
  'SIG_NULLDUMMY',
  'PUBKEYTYPE',
  'CLEANSTACK',
  'MINIMALIF',
  'NULLFAIL',
  // Softfork safeness
  'DISCOURAGE_UPGRADABLE_NOPS',
  'DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM',
  'DISCOURAGE_UPGRADABLE_TAPROOT_VERSION',
  'DISCOURAGE_OP_SUCCESS',
  'DISCOURAGE_UPGRADABLE_PUBKEYTYPE',
  // Segregated witness
  'WITNESS_PROGRAM_WRONG_LENGTH',
  'WITNESS_PROGRAM_WITNESS_EMPTY',
  'WITNESS_PROGRAM_MISMATCH',
  'WITNESS_MALLEATED',
  'WITNESS_MALLEATED_P2SH',
  'WITNESS_UNEXPECTED',
  'WITNESS_PUBKEYTYPE',
  // Taproot
  'SCHNORR_SIG_SIZE',
  'SCHNORR_SIG_HASHTYPE',
  'SCHNORR_SIG',
  'TAPROOT_WRONG_CONTROL_SIZE',
  'TAPSCRIPT_VALIDATION_WEIGHT',
  'TAPSCRIPT_CHECKMULTISIG',
  'TAPSCRIPT_MINIMALIF',
  // Constant scriptCode
  'OP_CODESEPARATOR',
  'SIG_FINDANDDELETE',
] as const;

export type ScriptErrorName = (typeof SCRIPT_ERROR_NAMES)[number];

const KNOWN = new Set<string>(SCRIPT_ERROR_NAMES);

export function isScriptErrorName(name: string): name is ScriptErrorName {
  return KNOWN.has(name);
}

/** Core's ScriptErrorString: the human sentence for each error. */
const DESCRIPTIONS: Record<ScriptErrorName, string> = {
  OK: 'No error',
  UNKNOWN_ERROR: 'unknown error',
  EVAL_FALSE: 'Script evaluated without error but finished with a false/empty top stack element',
  OP_RETURN: 'OP_RETURN was encountered',
  SCRIPT_SIZE: 'Script is too big',
  PUSH_SIZE: 'Push value size limit exceeded',
  OP_COUNT: 'Operation limit exceeded',
  STACK_SIZE: 'Stack size limit exceeded',
  SIG_COUNT: 'Signature count negative or greater than pubkey count',
  PUBKEY_COUNT: 'Pubkey count negative or limit exceeded',
  VERIFY: 'Script failed an OP_VERIFY operation',
  EQUALVERIFY: 'Script failed an OP_EQUALVERIFY operation',
  CHECKMULTISIGVERIFY: 'Script failed an OP_CHECKMULTISIGVERIFY operation',
  CHECKSIGVERIFY: 'Script failed an OP_CHECKSIGVERIFY operation',
  NUMEQUALVERIFY: 'Script failed an OP_NUMEQUALVERIFY operation',
  BAD_OPCODE: 'Opcode missing or not understood',
  DISABLED_OPCODE: 'Attempted to use a disabled opcode',
  INVALID_STACK_OPERATION: 'Operation not valid with the current stack size',
  INVALID_ALTSTACK_OPERATION: 'Operation not valid with the current altstack size',
  UNBALANCED_CONDITIONAL: 'Invalid OP_IF construction',
  NEGATIVE_LOCKTIME: 'Negative locktime',
  UNSATISFIED_LOCKTIME: 'Locktime requirement not satisfied',
  SIG_HASHTYPE: 'Signature hash type missing or not understood',
  SIG_DER: 'Non-canonical DER signature',
  MINIMALDATA: 'Data push larger than necessary',
  SIG_PUSHONLY: 'Only push operators allowed in signatures',
  SIG_HIGH_S: 'Non-canonical signature: S value is unnecessarily high',
  SIG_NULLDUMMY: 'Dummy CHECKMULTISIG argument must be zero',
  PUBKEYTYPE: 'Public key is neither compressed or uncompressed',
  CLEANSTACK: 'Stack size must be exactly one after execution',
  MINIMALIF: 'OP_IF/NOTIF argument must be minimal',
  NULLFAIL: 'Signature must be zero for failed CHECK(MULTI)SIG operation',
  DISCOURAGE_UPGRADABLE_NOPS: 'NOPx reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: 'Witness version reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_TAPROOT_VERSION: 'Taproot version reserved for soft-fork upgrades',
  DISCOURAGE_OP_SUCCESS: 'OP_SUCCESSx reserved for soft-fork upgrades',
  DISCOURAGE_UPGRADABLE_PUBKEYTYPE: 'Public key version reserved for soft-fork upgrades',
  WITNESS_PROGRAM_WRONG_LENGTH: 'Witness program has incorrect length',
  WITNESS_PROGRAM_WITNESS_EMPTY: 'Witness program was passed an empty witness',
  WITNESS_PROGRAM_MISMATCH: 'Witness program hash mismatch',
  WITNESS_MALLEATED: 'Witness requires empty scriptSig',
  WITNESS_MALLEATED_P2SH: 'Witness requires only-redeemscript scriptSig',
  WITNESS_UNEXPECTED: 'Witness provided for non-witness script',
  WITNESS_PUBKEYTYPE: 'Using non-compressed keys in segwit',
  SCHNORR_SIG_SIZE: 'Invalid Schnorr signature size',
  SCHNORR_SIG_HASHTYPE: 'Invalid Schnorr signature hash type',
  SCHNORR_SIG: 'Invalid Schnorr signature',
  TAPROOT_WRONG_CONTROL_SIZE: 'Invalid Taproot control block size',
  TAPSCRIPT_VALIDATION_WEIGHT: 'Too much signature validation relative to witness weight',
  TAPSCRIPT_CHECKMULTISIG: 'OP_CHECKMULTISIG(VERIFY) is not available in tapscript',
  TAPSCRIPT_MINIMALIF: 'OP_IF/NOTIF argument must be minimal in tapscript',
  OP_CODESEPARATOR: 'Using OP_CODESEPARATOR in non-witness script',
  SIG_FINDANDDELETE: 'Signature is found in scriptCode',
};

export function describeScriptError(name: ScriptErrorName): string {
  return DESCRIPTIONS[name];
}
