// Timing helpers shared by the bench pages.

/**
 * Tokens per second between the first and the last streamed token (prompt excluded). Both sides
 * of a comparison must tick on the same tokens: the sdk's `onToken` fires only for tokens with
 * text (a byte token that ends inside a UTF-8 character adds none), so a raw wllama side ticks
 * through `rawTick`, which skips the same tokens. (Ticking on every raw chunk made the sdk look
 * about 4 % slower on the random-weight Gemma 3n, whose byte tokens often carry no text.)
 */
export function decodeClock() {
  let first = 0;
  let last = 0;
  let n = 0;
  return {
    tick: () => {
      last = performance.now();
      if (n++ === 0) first = last;
    },
    rate: () => (n - 1) / ((last - first) / 1000),
  };
}

/** A raw wllama `onData` that ticks `clock` as the sdk's `onToken` would: on tokens with text. */
export function rawTick(clock: { tick(): void }) {
  return (chunk: { choices?: Array<{ text?: string }> }) => {
    if (chunk.choices?.[0]?.text) clock.tick();
  };
}

/** Median, smallest and largest of a list of measurements. */
export function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}
