// Chromium's sampling profiler in every worker of a browser (wllama's worker and llama.cpp's
// threads, which are nested workers), over the DevTools protocol's flat sessions: Playwright's
// CDP sessions reach pages, not nested workers.

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** One node of a V8 CPU profile. */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** A worker's profile: self time in ms by function name, and the sampled span. */
export interface ThreadProfile {
  url: string;
  selfMs: Map<string, number>;
  sampledMs: number;
}

export class WorkerProfiler {
  private next = 0;
  private readonly pending = new Map<number, (m: CdpMessage) => void>();
  private readonly workers = new Map<string, string>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => this.onMessage(JSON.parse(String(event.data))));
  }

  /** Connects to a Chromium started with `--remote-debugging-port=<port>`. */
  static async connect(port: number): Promise<WorkerProfiler> {
    const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as {
      webSocketDebuggerUrl: string;
    };
    if (typeof WebSocket === 'undefined')
      throw new Error(
        'the profiler needs WebSocket in Node: Node 22+, or NODE_OPTIONS=--experimental-websocket on Node 20 (the bench script sets it)',
      );
    const ws = new WebSocket(version.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true });
      ws.addEventListener('error', reject, { once: true });
    });
    const profiler = new WorkerProfiler(ws);
    await profiler.send('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: true,
    });
    return profiler;
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<CdpMessage['result']> {
    const id = ++this.next;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) =>
      this.pending.set(id, (m) =>
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result),
      ),
    );
  }

  private onMessage(m: CdpMessage) {
    if (m.id !== undefined) {
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
      return;
    }
    if (m.method === 'Target.detachedFromTarget') {
      this.workers.delete((m.params as { sessionId: string }).sessionId);
      return;
    }
    if (m.method !== 'Target.attachedToTarget') return;
    const { sessionId, targetInfo } = m.params as {
      sessionId: string;
      targetInfo: { type: string; url: string };
    };
    if (targetInfo.type === 'worker') this.workers.set(sessionId, targetInfo.url);
    // Pages and workers: attach to their workers too (llama.cpp's threads are nested workers).
    void this.send(
      'Target.setAutoAttach',
      { autoAttach: true, waitForDebuggerOnStart: false, flatten: true },
      sessionId,
    ).catch(() => undefined);
  }

  /** How many workers are attached now. */
  get workerCount(): number {
    return this.workers.size;
  }

  /** Starts sampling in every attached worker (`intervalUs` between samples); a worker that has gone is dropped. */
  async start(intervalUs = 1000): Promise<void> {
    await Promise.all(
      [...this.workers.keys()].map(async (s) => {
        try {
          await this.send('Profiler.enable', {}, s);
          await this.send('Profiler.setSamplingInterval', { interval: intervalUs }, s);
          await this.send('Profiler.start', {}, s);
        } catch {
          this.workers.delete(s);
        }
      }),
    );
  }

  /** Stops sampling: each worker's self time by function name. */
  async stop(): Promise<ThreadProfile[]> {
    const out: ThreadProfile[] = [];
    for (const [s, url] of this.workers) {
      const r = (await this.send('Profiler.stop', {}, s).catch(() => undefined)) as
        | {
            profile: {
              nodes: ProfileNode[];
              samples?: number[];
              timeDeltas?: number[];
              startTime: number;
              endTime: number;
            };
          }
        | undefined;
      if (!r) continue;
      const byId = new Map(r.profile.nodes.map((n) => [n.id, n.callFrame.functionName]));
      const selfMs = new Map<string, number>();
      const samples = r.profile.samples ?? [];
      const deltas = r.profile.timeDeltas ?? [];
      // timeDeltas[i + 1] is the time from sample i to the next: sample i's share.
      for (let i = 0; i < samples.length; i++) {
        const name = byId.get(samples[i]!) || '(anonymous)';
        const ms = (deltas[i + 1] ?? 0) / 1000;
        selfMs.set(name, (selfMs.get(name) ?? 0) + ms);
      }
      out.push({ url, selfMs, sampledMs: (r.profile.endTime - r.profile.startTime) / 1000 });
    }
    return out;
  }

  close(): void {
    this.ws.close();
  }
}
