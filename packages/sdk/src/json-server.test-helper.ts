// The JSON test server moved to test-fixtures (llm-bridge's remote tests use it too).
export { startJsonServer } from '@the-edge-agent/test-fixtures';
export type { SeenRequest } from '@the-edge-agent/test-fixtures';
