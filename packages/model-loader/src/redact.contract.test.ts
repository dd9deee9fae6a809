import { redactionContract, retryAfterContract } from '@the-edge-agent/test-fixtures/contracts';
import { redactText, redactUrl } from './errors.js';
import { retryAfterMs } from './retry-policy.js';

// The same cases as llm-bridge's copies (used by its remote client): they cannot drift apart.
redactionContract('model-loader', { redactText, redactUrl });
retryAfterContract('model-loader', retryAfterMs);
