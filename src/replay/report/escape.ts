/**
 * Escaping for the replay report. Every string that comes from a bundle is the operator's (or a chain's)
 * and may be hostile: it only ever reaches the page through `text()`, which makes it inert in element
 * content and in a quoted attribute value alike. The report never puts a bundle string into a URL, an
 * id, an event handler or a tag name, so no other context needs escaping.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** The string as inert HTML text (also safe inside a double- or single-quoted attribute value). */
export function text(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A value of unknown shape (a recorded event, a graph field) as JSON text, bigint-safe and bounded. */
export function jsonText(value: unknown, maxChars = 4_000): string {
  let json: string;
  try {
    json =
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
        return v;
      }) ?? String(value);
  } catch {
    // A cycle or a throwing getter: the report still renders, saying what it could not show.
    json = '(a value that cannot be shown as JSON)';
  }
  const shown =
    json.length > maxChars ? `${json.slice(0, maxChars)}… (${json.length - maxChars} more characters)` : json;
  return text(shown);
}
