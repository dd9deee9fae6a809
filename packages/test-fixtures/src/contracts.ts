// Contract suites: vitest cases that two packages run against their own copy of a function the
// layering keeps them from sharing, so the copies cannot drift apart. Test-only (imports vitest),
// hence its own entry: `@the-edge-agent/test-fixtures/contracts`.
export { RACE_ABORT_CASES, raceAbortContract } from './race-abort-contract.js';
export type { RaceAbort, RaceAbortContractOptions } from './race-abort-contract.js';
export { redactionContract, retryAfterContract } from './redaction-contract.js';
export type { Redaction, RetryAfterMs } from './redaction-contract.js';
