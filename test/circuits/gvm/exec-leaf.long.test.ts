/**
 * The GVM-1 execution leaves' soundness cases at full count, first half of the opcodes (the second is
 * exec-leaf-2.long.test.ts, so that `--maxWorkers=2` runs both on the two cores): `npm run test:long` sets
 * VIGIL_LONG=1, under which exec-leaf.test.ts runs, per opcode, 10,000 correct and 10,000 wrong steps
 * from real traces of the governance program (96 workloads; random top-ups where the traces hold too
 * few: halt, one a trace; the 96 traces hold 12,031 div and 24,914 mul steps), 10,000 each way on
 * random machines as before, and the judgement alone on 20,000 random steps. VIGIL_EXEC_CASES / VIGIL_EXEC_WRONG,
 * VIGIL_EXEC_RANDOM / VIGIL_EXEC_RANDOM_WRONG, VIGIL_EXEC_JUDGED and VIGIL_TRACE_SEEDS override the counts,
 * for a shorter run.
 */
process.env.VIGIL_GVM_PART = '1/2';
await import('./exec-leaf.test.ts');
