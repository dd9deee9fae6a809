import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A writer whose transactions finish when the test says so. */
function gatedWriter() {
  const batches: number[][] = [];
  const gates: Array<{ open: () => void; fail: (e: unknown) => void }> = [];
  const write = (values: number[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(values);
      gates.push({ open: resolve, fail: reject });
    });
  return { batches, gates, write };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('GroupCommit', () => {
  it('writes what arrives during a transaction together in the next one, and resolves each put after its commit', async () => {
    const w = gatedWriter();
    const g = new GroupCommit<number>(w.write);
    const settled: number[] = [];
    const put = (v: number) => g.put(v).then(() => settled.push(v));
    const first = put(1);
    await tick();
    const rest = [2, 3, 4].map(put);
    await tick();
    expect(w.batches).toEqual([[1]]);
    expect(settled).toEqual([]);
    w.gates[0]!.open();
    await first;
    await tick();
    expect(w.batches).toEqual([[1], [2, 3, 4]]);
    expect(settled).toEqual([1]);
    w.gates[1]!.open();
    await Promise.all(rest);
    expect(settled).toEqual([1, 2, 3, 4]);
  });

  it('takes at most eight writes per transaction', async () => {
    const sizes: number[] = [];
    const g = new GroupCommit<number>(async (v) => void sizes.push(v.length));
    await Promise.all(Array.from({ length: 20 }, (_, i) => g.put(i)));
    expect(sizes.every((n) => n <= 8)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(20);
  });

  it('rejects every write of a failed transaction with its error, and the next transaction still runs', async () => {
    const w = gatedWriter();
    const g = new GroupCommit<number>(w.write);
    const a = g.put(1);
    await tick();
    const b = g.put(2);
    const c = g.put(3);
    w.gates[0]!.open();
    await a;
    await tick();
    const full = Object.assign(new Error('full'), { name: 'QuotaExceededError' });
    w.gates[1]!.fail(full);
    await expect(b).rejects.toBe(full);
    await expect(c).rejects.toBe(full);
    const d = g.put(4);
    await tick();
    expect(w.batches.at(-1)).toEqual([4]);
    w.gates[2]!.open();
    await expect(d).resolves.toBeUndefined();
  });

  it('a writer that throws synchronously rejects its batch instead of stalling the queue', async () => {
    let calls = 0;
    const g = new GroupCommit<number>((values) => {
      calls++;
      if (values.includes(1)) throw new Error('no database');
      return Promise.resolve();
    });
    await expect(g.put(1)).rejects.toThrow('no database');
    await expect(g.put(2)).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
