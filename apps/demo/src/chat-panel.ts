import type { ChatMessage, CompletionResult, Tea } from '@the-edge-agent/sdk';
import { errorLine } from './format.js';

/**
 * A chat with the loaded model: the conversation so far goes with each turn, the reply streams
 * in as text. `model()` is the handle of the moment (a new model starts a new conversation).
 */
export function setupChat(
  els: {
    form: HTMLFormElement;
    input: HTMLTextAreaElement;
    send: HTMLButtonElement;
    stop: HTMLButtonElement;
    log: HTMLOListElement;
  },
  model: () => Tea | undefined,
): { reset(): void } {
  let history: ChatMessage[] = [];
  let controller: AbortController | undefined;
  const bubble = (role: 'user' | 'assistant' | 'error', text: string) => {
    const li = document.createElement('li');
    li.className = `msg ${role}`;
    li.dataset['role'] = role;
    li.textContent = text;
    els.log.append(li);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  };
  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const tea = model();
    const text = els.input.value.trim();
    if (!tea || !text || controller) return;
    els.input.value = '';
    history.push({ role: 'user', content: text });
    bubble('user', text);
    const reply = bubble('assistant', '');
    reply.dataset['state'] = 'streaming';
    controller = new AbortController();
    els.send.disabled = true;
    els.stop.disabled = false;
    void tea
      .chat(history, {
        max_tokens: 128,
        // A long conversation keeps going: its oldest turns are left out once it no longer
        // fits the model's context (the bridge says how many; the log says so too).
        overflow: 'drop-oldest',
        signal: controller.signal,
        onToken: (t) => {
          reply.textContent += t;
        },
      })
      .then(
        (result) => {
          history = showReply(reply, result, history);
        },
        (error: unknown) => {
          history.pop();
          showError(reply, error);
        },
      )
      .finally(() => {
        controller = undefined;
        els.send.disabled = false;
        els.stop.disabled = true;
      });
  });
  els.input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter starts a new line.
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  });
  els.stop.addEventListener('click', () => controller?.abort());
  return {
    reset() {
      controller?.abort();
      history = [];
      els.log.replaceChildren();
    },
  };
}

/** A finished reply: its text, and a note when the oldest turns no longer fit the context. */
function showReply(reply: HTMLLIElement, result: CompletionResult, history: ChatMessage[]) {
  reply.textContent = result.content;
  const dropped = result.dropped_messages ?? 0;
  if (dropped) {
    history.splice(0, dropped);
    const note = document.createElement('li');
    note.className = 'msg note';
    note.dataset['role'] = 'note';
    note.textContent = `The ${dropped} oldest message${dropped === 1 ? '' : 's'} no longer fit the model's context and ${dropped === 1 ? 'was' : 'were'} left out of this reply.`;
    reply.before(note);
  }
  history.push({ role: 'assistant', content: result.content });
  reply.dataset['state'] = 'done';
  return history;
}

/** A failed reply: the error's line in its place. */
function showError(reply: HTMLLIElement, error: unknown): void {
  reply.className = 'msg error';
  reply.dataset['role'] = 'error';
  reply.dataset['state'] = 'error';
  reply.textContent = errorLine(error);
}
