/**
 * Why a rule refused an input. A rule returns one instead of throwing: every precondition is checked
 * before any effect, so a rejected input leaves the state as it was and the step is still traced.
 */

import type { RuleId } from '../rule-ids.ts';

export type Rejection = { rule: RuleId; reason: string };

export const reject = (rule: RuleId, reason: string): Rejection => ({ rule, reason });
