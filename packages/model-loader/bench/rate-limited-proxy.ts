import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { drained } from '@the-edge-agent/test-fixtures';

/**
 * A link of `bytesPerSecond` in front of `target` (an origin such as the fault server's): a TCP
 * relay on 127.0.0.1 whose server-to-client bytes, of every connection together, pass one token
 * bucket, as on a real link where parallel connections share one pipe (a per-connection limit
 * would let N connections go N times as fast). The bytes are relayed as they are, so the HTTP
 * answers (Range, validators, CORS, CORP) are the target's own; request bytes are not limited.
 *
 * The bucket is a virtual clock: each piece read from the server reserves its transmission time
 * after the pieces before it (of any connection, first come first served: each connection has at
 * most one piece waiting, so they take turns) and is written once that time has come. Its depth
 * is `burstMs`: link time that passed with nothing sent is credit up to that much (as a real
 * link's sender queue keeps the wire busy while the sending process waits for the CPU), beyond
 * it lost, as on a real link that nobody sends on. So the long-run rate is `bytesPerSecond`, and
 * at most `burstMs` worth of bytes go out at once. A client that does not read holds its own connection back (backpressure stops reading
 * from the server), not the others. No latency is added: a request costs the loopback round trip.
 *
 * A TCP relay rather than an HTTP proxy: it costs this process about a third less CPU per byte
 * (measured on the 2-core machine: 2.9 against 4.3 CPU-s per GiB unlimited), and the server
 * and the relay stand for the far end of the link, which a real download does not pay for.
 */
export async function startRateLimitedProxy(
  target: string,
  bytesPerSecond: number,
  { burstMs = 50 }: { burstMs?: number } = {},
) {
  const upstream = new URL(target);
  let nextFree = 0;
  let relayed = 0;
  /** Waits until `n` more bytes fit the link. */
  const take = async (n: number) => {
    const now = performance.now();
    // Link time that passed with nothing to send is lost, except the bucket's depth (`burstMs`):
    // that much is credit, so a relay that ran late (a busy machine, a late timer) catches up.
    const start = Math.max(nextFree, now - burstMs);
    nextFree = start + (n * 1000) / bytesPerSecond;
    const wait = nextFree - now;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  const sockets = new Set<Socket>();

  /** Server-to-client bytes through the bucket, with the client's backpressure. */
  const relay = async (from: Socket, to: Socket) => {
    for await (const piece of from as AsyncIterable<Buffer>) {
      await take(piece.byteLength);
      if (to.destroyed) break;
      relayed += piece.byteLength;
      if (!to.write(piece)) await drained(to);
    }
    to.end();
  };

  const server = createServer((client) => {
    const server = connect({ host: upstream.hostname, port: Number(upstream.port) });
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(server);
    relay(server, client).catch(() => client.destroy());
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.on('close', () => server.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    /** The link's origin: the same paths as `target`, at the link's rate. */
    origin,
    url: (path: string) => `${origin}/${path}`,
    bytesPerSecond,
    /** Server-to-client bytes relayed so far (all connections, headers included). */
    relayed: () => relayed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type RateLimitedProxy = Awaited<ReturnType<typeof startRateLimitedProxy>>;
