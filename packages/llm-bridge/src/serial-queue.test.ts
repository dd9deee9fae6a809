import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SerialQueue', () => {
  it('runs tasks one at a time in queue order', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([
      queue.run(task('a', 20)),
      queue.run(task('b', 1)),
      queue.run(task('c', 5)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('keeps going after a task fails', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(() => Promise.reject(new Error('boom')));
    const next = queue.run(async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect(queue.size).toBe(0);
  });

  it('drops a waiting task whose signal aborts, without running it', async () => {
    const queue = new SerialQueue();
    let ran = false;
    const first = queue.run(() => tick(30).then(() => 1));
    const controller = new AbortController();
    const second = queue.run(
      async () => {
        ran = true;
      },
      controller.signal,
      'the completion',
    );
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    await expect(first).resolves.toBe(1);
    await tick(5);
    expect(ran).toBe(false);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const queue = new SerialQueue();
    await expect(queue.run(async () => 1, AbortSignal.abort())).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
