/**
 * The inputs half of GVM-1's tape (docs/protocol.md §23): an epoch's governance inputs as words, so the
 * governance program reads each with `tape` steps and the kick-off can commit them as one root. Layout
 * (positions relative to the half's start, 2^29):
 *
 *   0                  the input count M
 *   1 + 16·i … +15     input i: kind code, sender, block, txIndex, logIndex, then its arguments
 *   1 + 16·M …         proposal actions, 4 words each, in input order
 *
 * Kind codes are 1 + the index in `INPUT_KINDS` (registerValidator 1 … endEpoch 11). Arguments, from
 * word 5: registerValidator commissionBps; stake / unstake amount; delegate / undelegate validator,
 * amount; propose first action's position, action count, actionsHash (as the L2 contract computed it:
 * the program stores it, it cannot recompute SHA-256); vote proposalId, support code (§5); queue /
 * execute / cancel proposalId; endEpoch none. An action is kind (0 setParameter, 1 upgradeModule), name
 * (the 32-byte key or module id, as in §8's key words), value or version, codeHash (0 for a parameter).
 * Addresses are 160-bit integers. An input the model would refuse as malformed (not a lowercase address,
 * a value outside its type) is encoded with kind code 0 and no arguments: the program rejects it, as
 * the model does, without reading further.
 */
import { hexToBytes } from '../../core/bytes.ts';
import { encodeAction } from '../../governance/encoding.ts';
import {
  type GovernanceInput,
  INPUT_KINDS,
  isAddress,
  isName,
  type ProposalAction,
  VOTE_SUPPORT_CODE,
} from '../../governance/inputs.ts';
import { sha256Concat } from '../../governance/sha.ts';
import { WORD_MAX, wordOf } from '../isa.ts';

export const INPUT_RECORD_WORDS = 16;
export const ACTION_WORDS = 4;

const addressWord = (a: string): bigint => BigInt(a);
const nameWord = (name: string): bigint => {
  const b = new Uint8Array(32);
  for (let i = 0; i < name.length && i < 32; i++) b[i] = name.charCodeAt(i) & 0x7f;
  return wordOf(b);
};
const isWord = (v: unknown): v is bigint => typeof v === 'bigint' && v >= 0n && v <= WORD_MAX;
const isU32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32;

function actionWords(a: ProposalAction): bigint[] | undefined {
  if (a.kind === 'setParameter') {
    return isName(a.key) && isWord(a.value) ? [0n, nameWord(a.key), a.value, 0n] : undefined;
  }
  if (!isName(a.moduleId) || !isWord(a.version) || !/^0x[0-9a-f]{64}$/.test(a.codeHash)) return undefined;
  return [1n, nameWord(a.moduleId), a.version, wordOf(hexToBytes(a.codeHash, 'codeHash'))];
}

/** Arguments of a well-formed input, or undefined when the model would refuse it as malformed. */
function argumentsOf(input: GovernanceInput, actionsAt: number): bigint[] | undefined {
  switch (input.kind) {
    case 'registerValidator':
      return isU32(input.commissionBps) ? [BigInt(input.commissionBps)] : undefined;
    case 'stake':
    case 'unstake':
      return isWord(input.amount) ? [input.amount] : undefined;
    case 'delegate':
    case 'undelegate':
      return isAddress(input.validator) && isWord(input.amount)
        ? [addressWord(input.validator), input.amount]
        : undefined;
    case 'propose': {
      const hash = wordOf(sha256Concat(input.actions.map(encodeAction)));
      return [BigInt(actionsAt), BigInt(input.actions.length), hash];
    }
    case 'vote':
      return isWord(input.proposalId)
        ? [input.proposalId, BigInt(VOTE_SUPPORT_CODE[input.support] ?? 3)]
        : undefined;
    case 'queue':
    case 'execute':
    case 'cancel':
      return isWord(input.proposalId) ? [input.proposalId] : undefined;
    case 'endEpoch':
      return [];
  }
}

/** The inputs half's words for an epoch's inputs (in L2 order). */
export function encodeInputsTape(inputs: readonly GovernanceInput[]): bigint[] {
  const records: bigint[] = [BigInt(inputs.length)];
  const actions: bigint[] = [];
  const actionsBase = 1 + INPUT_RECORD_WORDS * inputs.length;
  for (const input of inputs) {
    const record = new Array<bigint>(INPUT_RECORD_WORDS).fill(0n);
    const encodedActions = input.kind === 'propose' ? input.actions.map(actionWords) : [];
    const args =
      isAddress(input.sender) && encodedActions.every((a) => a !== undefined)
        ? argumentsOf(input, actionsBase + actions.length)
        : undefined;
    if (args !== undefined) {
      record[0] = BigInt(INPUT_KINDS.indexOf(input.kind) + 1);
      record[1] = addressWord(input.sender);
      record[2] = input.position.block;
      record[3] = BigInt(input.position.txIndex);
      record[4] = BigInt(input.position.logIndex);
      args.forEach((w, k) => {
        record[5 + k] = w;
      });
      for (const a of encodedActions) actions.push(...(a as bigint[]));
    }
    records.push(...record);
  }
  return [...records, ...actions];
}
