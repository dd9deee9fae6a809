export { init, isInitialized } from './init.js';
export type { InitInput } from './init.js';
export { version } from './version.js';
export { CoreWasmError } from './errors.js';
export type { CoreWasmErrorCode } from './errors.js';
