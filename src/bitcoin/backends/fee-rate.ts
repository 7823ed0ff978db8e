/**
 * Moved to src/bitcoin/codec/fee-rate.ts (pure: no I/O). This re-export only keeps the files other work in
 * progress still points here at (src/queue/, src/bitcoin/simnet/, src/devnet/run.ts and operator.ts, their
 * tests) compiling; delete it once they import src/bitcoin/codec/fee-rate.ts.
 */
export * from '../codec/fee-rate.ts';
