import { describe, expect, it } from 'vitest';
import { RunLock } from './run-lock.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RunLock', () => {
  it('lets runs of one owner overlap and makes another owner wait for them', async () => {
    const lock = new RunLock();
    const log: string[] = [];
    const run = async (owner: string, name: string, ms: number) => {
      const release = await lock.acquire(owner);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      release();
    };
    await Promise.all([run('a', 'a1', 30), run('a', 'a2', 10), run('b', 'b1', 5)]);
    expect(log.indexOf('start a2')).toBeLessThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeGreaterThan(log.indexOf('end a1'));
  });

  it('ignores a second release', async () => {
    const lock = new RunLock();
    const release = await lock.acquire('a');
    release();
    release();
    const other = await Promise.race([
      lock.acquire('b').then(() => 'got it'),
      tick(50).then(() => 'stuck'),
    ]);
    expect(other).toBe('got it');
  });
});
