// Timing helpers shared by the bench pages.

/** Tokens per second between the first and the last streamed token (prompt excluded). */
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

/** Median, smallest and largest of a list of measurements. */
export function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}
