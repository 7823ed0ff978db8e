/** The replay report: `renderReplayReport` and the optional opcode traces it can show. */
export {
  MAX_TRACE_LINES_PER_INPUT,
  MAX_TRACE_LINES_PER_REPORT,
  REPORT_CSP,
  renderReplayReport,
  type ScriptTrace,
  type ScriptTraceLine,
  traceLineCaps,
} from './render.ts';
export { MAX_TRACE_ROWS } from './trace.ts';
