/** Codes of the sdk's own errors (the layers' errors keep theirs: see the README). */
export type TeaErrorCode = 'NOT_INITIALIZED' | 'DISPOSED' | 'INVALID_ARGUMENT';

/** An error of the sdk itself: a stable `code`, and a `hint` saying what to do. */
export class TeaError extends Error {
  override readonly name = 'TeaError';
  constructor(
    readonly code: TeaErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(`${message}: ${hint}`);
  }
}

export const notInitialized = (what: string) =>
  new TeaError(
    'NOT_INITIALIZED',
    `${what} needs a loaded model, and none is`,
    'await initTeaLlm(config) (or initLlm) first, or use the handle createTea() returns',
  );

export const disposed = () =>
  new TeaError(
    'DISPOSED',
    'this Tea handle was disposed',
    'create a new one with createTea() (or initTeaLlm() for the default handle)',
  );
