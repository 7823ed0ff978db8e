/**
 * Attacks on the graph document, for the wrong claims only (the honest ones are published as they
 * should be, so they are judged and must not be accused): a document that does not parse, one far
 * larger than any graph, and one published only when the challenge window is nearly over.
 */
import type { GraphWriter, OperatorStrategy } from './types.ts';

export const graphMalformedStrategy: OperatorStrategy = {
  name: 'graph-malformed',
  doc: 'for a wrong claim it publishes a graph document cut in half (not JSON)',
  expect: 'cannot-start-alert',
  hooks: () => ({
    publish: async (doc, w) => {
      await w.write(doc.epoch, doc.fraud ? doc.text.slice(0, Math.floor(doc.text.length / 2)) : doc.text);
    },
  }),
};

/** Padding that keeps the document valid JSON: whitespace between tokens. */
const OVERSIZE_BYTES = 24 * 1024 * 1024;

export const graphOversizeStrategy: OperatorStrategy = {
  name: 'graph-oversize',
  doc: `for a wrong claim it publishes a valid graph padded with ${OVERSIZE_BYTES / 1024 / 1024} MiB of whitespace`,
  expect: 'slashed-or-alert',
  hooks: () => ({
    publish: async (doc, w) => {
      const text = doc.fraud ? `{${' '.repeat(OVERSIZE_BYTES)}${doc.text.slice(1)}` : doc.text;
      await w.write(doc.epoch, text);
    },
  }),
};

/** Blocks of the challenge window left when the late graph appears. */
const LATE_LEFT = 3;

export const graphLateStrategy: OperatorStrategy = {
  name: 'graph-late',
  doc: `for a wrong claim it publishes the graph only when ${LATE_LEFT} blocks of the challenge window are left`,
  expect: 'slashed',
  hooks: () => {
    const held = new Map<bigint, string>();
    let writer: GraphWriter | undefined;
    return {
      publish: async (doc, w) => {
        writer = w;
        if (doc.fraud) held.set(doc.epoch, doc.text);
        else await w.write(doc.epoch, doc.text);
      },
      round: async (api) => {
        for (const c of api.claims()) {
          const text = held.get(c.epoch);
          if (text === undefined || c.kickoffHeight === undefined || writer === undefined) continue;
          const closes = c.kickoffHeight + c.graph.spec.params.timelocks.challengeWindow;
          if (api.next() < closes - LATE_LEFT) continue;
          held.delete(c.epoch);
          await writer.write(c.epoch, text);
          api.say(
            `epoch ${c.epoch}: published its graph late, ${closes - api.next()} blocks before the take`,
          );
        }
      },
    };
  },
};
