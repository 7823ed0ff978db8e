/** The script engine's public surface. */
export * from './asm.ts';
export * from './builder.ts';
export * from './checker.ts';
export * from './errors.ts';
export * from './flags.ts';
export * from './interpreter.ts';
export * from './num.ts';
export * from './opcodes.ts';
export * from './script.ts';
export * from './sigencoding.ts';
export * from './taproot.ts';
export * from './verify.ts';
