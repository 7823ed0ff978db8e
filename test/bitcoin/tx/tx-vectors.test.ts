/** tx_valid.json / tx_invalid.json with transaction_tests.cpp's semantics (see tx-vectors-harness.ts). */
import { runTxVectors } from './tx-vectors-harness.ts';

// One random flag combination per flag, as Core's test draws.
runTxVectors('Core semantics', 1);
