/** The second half of the opcodes of exec-leaf.long.test.ts (see there). */
process.env.VIGIL_GVM_PART = '2/2';
await import('./exec-leaf.test.ts');
