// @ts-check

/**
 * Applies `changes` to `text`; throws unless each `find` occurs exactly once.
 * @param {string} text @param {{ why: string, find: string, replace: string }[]} changes
 */
export function applyTextChanges(text, changes) {
  let out = text;
  for (const change of changes) {
    const count = out.split(change.find).length - 1;
    if (count !== 1)
      throw new Error(
        `wllama patch: expected "${change.find}" exactly once, found it ${count} times (${change.why})`,
      );
    out = out.replace(change.find, () => change.replace);
  }
  return out;
}
