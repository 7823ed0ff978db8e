/**
 * The GVM-1 execution leaves' soundness cases at full count, first half of the opcodes (the second is
 * exec-leaf-2.long.test.ts, so that `--maxWorkers=2` runs both on the two cores): `npm run test:long` sets
 * VIGIL_LONG=1, under which exec-leaf.test.ts runs, per opcode, 10,000 correct steps and 10,000 wrong
 * ones (wrong by `isWrongStep`; perturbations that leave a step correct are judged too, not counted) from
 * real traces of the governance program (96 workloads, distinct step records), with random top-ups where
 * the traces hold fewer distinct steps (halt 96, jmp 139, jnz 718, mul 3,542, mov 3,582, jz 5,124; see
 * exec-leaf.test.ts's header for why, and why a top-up is still a step of its opcode); 10,000 each way on
 * random machines; and the judgement alone on 20,000 random steps. VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG,
 * VIGIL_EXEC_RANDOM / VIGIL_EXEC_RANDOM_WRONG, VIGIL_EXEC_JUDGED and VIGIL_TRACE_SEEDS override the counts,
 * for a shorter run.
 */
process.env.VIGIL_GVM_PART = '1/2';
await import('./exec-leaf.test.ts');
