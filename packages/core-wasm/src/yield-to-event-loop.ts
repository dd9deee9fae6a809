/**
 * Resolves in a new macrotask, so the browser can paint and deliver events (an abort) in
 * between. `setImmediate` in Node; a `MessageChannel` in browsers (no 4 ms clamp, unlike nested
 * `setTimeout`); `setTimeout` elsewhere.
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as {
    setImmediate?: (fn: () => void) => unknown;
    MessageChannel?: typeof MessageChannel;
  };
  return new Promise((resolve) => {
    if (typeof g.setImmediate === 'function') {
      g.setImmediate(resolve);
    } else if (typeof g.MessageChannel === 'function') {
      const channel = new g.MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    } else {
      setTimeout(resolve, 0);
    }
  });
}
