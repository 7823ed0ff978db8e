/** JSON with bigints, for journal entries kept in Redis: a bigint is written as {"$bigint":"<decimal>"}. */

export function encodeJournal(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

export function decodeJournal<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$bigint' && typeof o.$bigint === 'string')
        return BigInt(o.$bigint);
    }
    return v;
  }) as T;
}
