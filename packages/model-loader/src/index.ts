export { parseByteSize } from './parse-byte-size.js';
export { ModelLoaderError } from './errors.js';
export type { ModelLoaderErrorCode } from './errors.js';
