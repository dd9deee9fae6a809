import { raceAbortContract } from '@the-edge-agent/test-fixtures/contracts';
import { raceAbort } from './race-abort.js';

// The same cases as core-wasm's raceAbort: the two copies behave alike.
raceAbortContract('llm-bridge', raceAbort, { code: 'ABORTED', name: 'AbortError' });
