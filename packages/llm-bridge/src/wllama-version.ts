/** The @wllama/wllama version this package is built and tested against (its exact dependency). */
export const WLLAMA_VERSION = '3.13.0';
