/** Replaces every occurrence of a secret's value in text. */
export type Redact = (text: string) => string;

/** The redaction of a run's secrets (longest first), or undefined when it has none. */
export function redactor(secrets: Record<string, string> | undefined): Redact | undefined {
  const values = Object.values(secrets ?? {})
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return undefined;
  return (text) => {
    let out = text;
    for (const v of values) if (out.includes(v)) out = out.split(v).join('[secret]');
    return out;
  };
}

/** A copy of `value` with every string (and key) redacted. */
export function redactDeep(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact);
    return out;
  }
  return value;
}
