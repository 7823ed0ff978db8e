// Starts the honest run's worker thread: loads the TypeScript sources through tsx, as bin/vigil.js does
// for the main thread (loader hooks registered there do not reach worker threads).
import { register } from 'tsx/esm/api';

register();
await import('./honest-run-worker.ts');
