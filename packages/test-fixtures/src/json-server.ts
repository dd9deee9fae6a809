import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a JSON test server saw it. */
export interface SeenRequest {
  path: string;
  body: Record<string, unknown>;
  auth: string | undefined;
}

/** A JSON test server on 127.0.0.1 (`startJsonServer`). */
export interface JsonServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every request so far, in order. */
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 for tests of remote endpoints: reads each request's JSON body,
 * records it, and lets `handle` answer.
 */
export async function startJsonServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void,
): Promise<JsonServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      seen.push({ path: req.url ?? '', body, auth: req.headers.authorization });
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
