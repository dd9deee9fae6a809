import { assertInitialized } from './init.js';
import { engineFacts, type EngineLimits } from './instance.js';

/** The engine's limits (depth, sizes, template budget); the README lists what each produces. */
export function engineLimits(): EngineLimits {
  assertInitialized();
  return { ...engineFacts().limits };
}
