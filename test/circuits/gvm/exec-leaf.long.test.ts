/**
 * The GVM-1 execution leaves' soundness cases at full count, first half of the opcodes (the second is
 * exec-leaf-2.long.test.ts, so that `--maxWorkers=2` runs both on the two cores): `npm run test:long` sets
 * VIGIL_LONG=1, under which exec-leaf.test.ts runs, per opcode, 10,000 correct and 10,000 wrong steps
 * from real traces of the governance program (96 workloads, distinct step records; random top-ups where
 * the traces hold fewer: halt 96, jmp 59, jnz 282, mov 2,013, mul 2,233, div 2,402, jz 3,328, sub 4,973),
 * 10,000 each way on random machines as before, and the judgement alone on 20,000 random steps. VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG,
 * VIGIL_EXEC_RANDOM / VIGIL_EXEC_RANDOM_WRONG, VIGIL_EXEC_JUDGED and VIGIL_TRACE_SEEDS override the counts,
 * for a shorter run.
 */
process.env.VIGIL_GVM_PART = '1/2';
await import('./exec-leaf.test.ts');
