/**
 * The browser suite's two test servers: one with COOP/COEP (cross-origin isolated), one without.
 * `TEA_E2E_PORT` moves both (to run two suites side by side); the plain one is the next port.
 */
export const ISOLATED_PORT = Number(process.env['TEA_E2E_PORT'] ?? 4173);
export const PLAIN_PORT = ISOLATED_PORT + 1;
export const ISOLATED_ORIGIN = `http://127.0.0.1:${ISOLATED_PORT}`;
export const PLAIN_ORIGIN = `http://127.0.0.1:${PLAIN_PORT}`;
