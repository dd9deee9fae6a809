import { redactionContract, retryAfterContract } from '@the-edge-agent/test-fixtures/contracts';
import { redactText, redactUrl } from './redact.js';
import { retryAfterMs } from './retry-after.js';

// The same cases as model-loader's originals: the copies cannot drift apart.
redactionContract('llm-bridge', { redactText, redactUrl });
retryAfterContract('llm-bridge', retryAfterMs);
