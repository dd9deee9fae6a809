import type { WorkflowEvent } from '@the-edge-agent/sdk';

const json = (v: unknown) => {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
};

/** A run event in plain words (token events are counted, not listed: they return null). */
export function eventText(event: WorkflowEvent, tokens = 0): string | null {
  switch (event.type) {
    case 'token':
      return null;
    case 'node_start':
      return `${event.node} started`;
    case 'node_end':
      return tokens
        ? `${event.node} finished (${tokens} streamed piece${tokens === 1 ? '' : 's'} of text)`
        : `${event.node} finished`;
    case 'error':
      return `${event.node} failed: ${event.code}: ${event.message}`;
    case 'warning':
      return `${event.node}: ${event.message}`;
    case 'interrupt':
      return `paused ${event.when} ${event.node}`;
    case 'tool_call':
      return `${event.node} calls tool ${event.name} ${json(event.arguments)} (round ${event.round})`;
    case 'prompt_progress': {
      const cached = event.cached ? ` (${event.cached} from the cache)` : '';
      return event.processed < event.total
        ? `${event.node} reads its prompt: ${event.processed} of ${event.total} tokens${cached}`
        : `${event.node} read its prompt: ${event.total} tokens${cached}`;
    }
    case 'tool_result':
      return `tool ${event.name} ${event.ok ? 'answers' : 'fails'}: ${event.result.length > 80 ? `${event.result.slice(0, 79)}…` : event.result}`;
  }
}

/** The run's events as a list: time since the start, what happened, and on which node. */
export class Timeline {
  private start = 0;
  private readonly tokens = new Map<string, number>();

  constructor(private readonly list: HTMLOListElement) {}

  clear(): void {
    this.start = performance.now();
    this.tokens.clear();
    this.list.replaceChildren();
  }

  add(event: WorkflowEvent): void {
    if (event.type === 'token') {
      this.tokens.set(event.node, (this.tokens.get(event.node) ?? 0) + 1);
      return;
    }
    const text = eventText(event, event.type === 'node_end' ? this.tokens.get(event.node) : 0);
    if (event.type === 'node_end') this.tokens.delete(event.node);
    if (!text) return;
    // Prompt progress updates one line per prompt (it comes every batch, and at the start).
    const last = this.list.lastElementChild as HTMLLIElement | null;
    if (
      event.type === 'prompt_progress' &&
      last?.dataset['type'] === 'prompt_progress' &&
      last.dataset['node'] === event.node
    ) {
      last.querySelector('.what')!.textContent = text;
      return;
    }
    const li = document.createElement('li');
    li.dataset['type'] = event.type;
    li.dataset['node'] = event.node;
    const time = document.createElement('span');
    time.className = 'when';
    time.textContent = `${((performance.now() - this.start) / 1000).toFixed(2)} s`;
    const what = document.createElement('span');
    what.className = 'what';
    what.textContent = text;
    li.append(time, what);
    this.list.append(li);
  }
}
