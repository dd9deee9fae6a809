export { detectThreading, readThreadingEnvironment } from './detect-threading.js';
export type { ThreadingDecision, ThreadingEnvironment } from './detect-threading.js';
