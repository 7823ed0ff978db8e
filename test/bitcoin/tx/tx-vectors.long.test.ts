/** tx_valid.json / tx_invalid.json with 40 random flag combinations per flag instead of Core's one. */
import { runTxVectors } from './tx-vectors-harness.ts';

runTxVectors('many random flag sets', 40);
