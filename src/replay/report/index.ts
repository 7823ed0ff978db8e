/** The replay report: `renderReplayReport` and the optional opcode traces it can show. */
export {
  MAX_TRACE_LINES_PER_INPUT,
  REPORT_CSP,
  renderReplayReport,
  type ScriptTrace,
  type ScriptTraceLine,
} from './render.ts';
