/** GVM-1, the micro-step machine (docs/protocol.md Part III): one import for its pure core. */
export * from './assembler.ts';
export * from './chain.ts';
export * from './interpreter.ts';
export * from './isa.ts';
export * from './program.ts';
export * from './reads.ts';
export { effectiveAddress, execute, isWrongStep, type Memory, type Tape as TapeReader } from './semantics.ts';
export * from './stepper.ts';
export * from './tape.ts';
