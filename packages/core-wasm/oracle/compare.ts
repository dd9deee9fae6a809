// Compares the engine's rendering of a template with Jinja2's (oracle/jinja2.ts) and names the
// compatibility-table row that explains a difference, if one does.
import { isDeepStrictEqual } from 'node:util';
import type { OracleResult } from './jinja2.js';

export type Ours = { ok: true; value: unknown } | { ok: false; code: string; message: string };

export type Verdict =
  | { same: true }
  | { same: false; explained: string }
  | { same: false; explained: null; why: string };

/** A difference the compatibility table explains: its row and how to recognise it. */
export type Explanation = {
  row: string;
  applies: (template: string, ours: Ours, theirs: OracleResult) => boolean;
};

/**
 * The differences core-wasm's README lists under "Compatibility with upstream TEA", "Templates",
 * each recognised by what causes it. Anything else is a defect.
 */
export const EXPLAINED: Explanation[] = [
  {
    row: 'a single expression that raises a Python error',
    // Upstream's process_template gives the template's text back when compile_expression raises
    // anything but a TemplateError (ZeroDivisionError, TypeError...); here it is a TEMPLATE error.
    applies: (_t, ours, theirs) => !ours.ok && theirs.ok && theirs.kind === 'text-returned',
  },
  {
    row: 'generators',
    // `map`, `select`, `batch`... without `| list` print as `<generator object ...>` upstream
    // and cannot be stored; here they are lists.
    applies: (_t, _ours, theirs) =>
      theirs.ok &&
      (theirs.kind === 'unserializable'
        ? /generator|iterator|map|filter|reversed|zip/.test(theirs.type)
        : typeof theirs.value === 'string' &&
          /<(generator|list_reverseiterator|reversed) object/.test(theirs.value)),
  },
  {
    row: 'range',
    // `range(4)` is Python's range object upstream (printed `range(0, 4)`, not JSON); a list here.
    applies: (t, _ours, theirs) =>
      t.includes('range(') ||
      JSON.stringify(theirs).includes('range(') ||
      JSON.stringify(theirs).includes('range object') ||
      ('type' in theirs && theirs.type === 'range') ||
      ('error' in theirs && /Object of type range/.test(theirs.error)),
  },
  {
    row: 'a method named without a call',
    // `'x'.encode`, `{'a': 1}.keys` (no parentheses) are Python method objects upstream, printed
    // `<built-in method ...>` (and usable as values: `'%s' % x.keys`); here a string's or a
    // literal dict's are undefined (an error once used), and a state dict's print without the
    // address.
    applies: (t, ours, theirs) =>
      JSON.stringify(theirs).includes('built-in method') ||
      ('type' in theirs && theirs.type === 'builtin_function_or_method') ||
      METHOD_WITHOUT_CALL.test(t),
  },
  {
    row: 'a state key named like a dict method',
    // Upstream's DotDict lets a key shadow the dict method of that name (`state.items` is the
    // key), so Jinja2 filters that call `value.items()` on `state` (dictsort, urlencode,
    // xmlattr, tojson...) fail there ("'list' object is not callable"); here they work.
    applies: (t, ours, theirs) =>
      ours.ok &&
      /\bstate\b/.test(t) &&
      /object is not callable/.test('error' in theirs ? theirs.error : ''),
  },
  {
    row: 'undefined inside a value',
    // `map(attribute='missing')` gives Jinja2 undefined values: upstream's typed value holds them
    // (not JSON: `null` here), and `tojson` of them fails.
    applies: (_t, _ours, theirs) =>
      ('type' in theirs && theirs.type === 'StrictUndefined') ||
      ('error' in theirs && /Object of type StrictUndefined/.test(theirs.error)),
  },
  {
    row: 'syntax Jinja2 rejects',
    // minijinja's parser accepts some text Jinja2's rejects: `{{- x -}}` as a whole value
    // (upstream's single-expression pattern keeps the markers), `-not x`, a test followed by a
    // bare `if`/`not` (`x is none not in y`).
    applies: (t, ours, theirs) =>
      (ours.ok &&
        (!theirs.ok || theirs.kind === 'text-returned') &&
        /TemplateSyntaxError|takes \d positional arguments? but \d were given|'(if|not|else|and|or|in)' is undefined/.test(
          theirs.error,
        )) ||
      // A test followed by a bare `if`, `not` or `in`: Jinja2 passes it to the test as an argument.
      /\bis\s+(not\s+)?\w+\s+(if|not|in)\b/.test(t) ||
      // `not` right after an operator (`a > not b`, `-not x`): Jinja2 reads it as a variable
      // named `not` (called or subscripted), which fails only when evaluated.
      /([-+*/%~<>=]|\bin)\s*not\b(?!\s+in\b)/.test(t),
  },
  {
    row: 'unary minus before `**`',
    // Jinja2 reads `-x ** y` as `(-x) ** y` but its generated Python runs `-(x ** y)` unless
    // both are literals; here it is `(-x) ** y`, as Jinja2 reads it. A negative number to a
    // fractional power is a Python complex number; here an error.
    applies: (t, _ours, theirs) =>
      (t.includes('**') && /(^|[^\w)\]'"\s]|\{\{)\s*-\s*[\w.'"(]/.test(t)) ||
      JSON.stringify(theirs).includes('j)'),
  },
  {
    row: 'unknown filters and tests',
    // An unknown filter or test (or a wrong argument) is an error when the workflow loads,
    // also in a branch that does not run; Jinja2 fails only when the branch runs.
    applies: (_t, ours, theirs) =>
      !ours.ok &&
      theirs.ok &&
      /there is no (filter|test) named|takes at most|has no argument/.test(ours.message),
  },
  {
    row: 'dict methods that change the dict',
    // `.setdefault()`, `.pop()`, `.update()`, `.clear()` change upstream's per-render copy of
    // `state` / `variables` (seen by the rest of that template); here they return what they
    // would and change nothing.
    applies: (t) => /\.(setdefault|pop|update|clear)\(/.test(t),
  },
  {
    row: 'literals folded when Jinja2 compiles',
    // Jinja2's compiler evaluates literal sub-expressions (`{'a': 1}.missing`) and fails on
    // them even in a branch that does not run; here only what runs is evaluated.
    applies: (t, ours, theirs) =>
      ours.ok &&
      !theirs.ok &&
      ((/UndefinedError: '(dict|str|list|int|float) object' has no attribute/.test(theirs.error) &&
        /[}\]'"](\.[a-z]|\[)/.test(t)) ||
        /UndefinedError: (No (aggregated|first|last) item|\w+ object has no element)/.test(
          theirs.error,
        )),
  },
  {
    row: 'fractional powers',
    // `x ** 2.5` comes from WebAssembly's `pow`, which may differ from the C library's in the
    // last digit.
    applies: (t, ours, theirs) =>
      t.includes('**') &&
      ours.ok &&
      theirs.ok &&
      JSON.stringify(ours.value).replace(/\d+/g, '#') ===
        JSON.stringify('value' in theirs ? theirs.value : null).replace(/\d+/g, '#'),
  },
  {
    row: 'limits',
    // Templates are bounded (output size, instructions): TOO_LARGE / TEMPLATE_BUDGET here.
    applies: (_t, ours) =>
      !ours.ok &&
      (ours.code === 'TOO_LARGE' ||
        ours.code === 'TEMPLATE_BUDGET' ||
        /past 128-bit integers/.test(ours.message)),
  },
];

/** A Python method named without a call (`.keys`, `.encode`). */
const METHOD_WITHOUT_CALL =
  /\.(items|keys|values|get|pop|copy|update|clear|setdefault|encode|upper|lower|strip|split|format|join|replace|startswith|endswith|title|count|index|find)\b(?!\s*\()/;

const num = (v: unknown) => typeof v === 'number';

function sameValue(a: unknown, b: unknown): boolean {
  if (num(a) && num(b)) return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return isDeepStrictEqual(a, b);
}

export function compare(template: string, ours: Ours, theirs: OracleResult): Verdict {
  if (ours.ok && theirs.ok && theirs.kind === 'value' && sameValue(ours.value, theirs.value))
    return { same: true };
  // Both fail: the messages differ by design (ours name the node and the YAML position).
  if (!ours.ok && !theirs.ok) return { same: true };
  for (const e of EXPLAINED)
    if (e.applies(template, ours, theirs)) return { same: false, explained: e.row };
  const show = (r: Ours | OracleResult) =>
    r.ok
      ? JSON.stringify('value' in r ? r.value : r) + ('error' in r ? ` (${r.error})` : '')
      : `error ${'code' in r ? r.code : r.kind}: ${'message' in r ? r.message : r.error}`;
  return { same: false, explained: null, why: `engine ${show(ours)}\n    Jinja2 ${show(theirs)}` };
}
