import { raceAbortContract } from '@the-edge-agent/test-fixtures/contracts';
import { raceAbort } from './race-abort.js';

// The same cases as llm-bridge's raceAbort: the two copies behave alike (a signal aborted before
// the call still observes the work, so its later rejection is never unhandled).
raceAbortContract('core-wasm', raceAbort, { code: 'ABORTED', name: 'AbortError' });
