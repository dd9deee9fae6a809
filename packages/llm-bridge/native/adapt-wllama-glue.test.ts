import { describe, expect, it } from 'vitest';
import {
  adaptCMake,
  adaptContext,
  blockAfter,
  once,
  removeBlock,
  replaceBody,
} from './adapt-wllama-glue.mjs';

describe('adapt-wllama-glue helpers', () => {
  const code = 'struct a\n{\n  int f() { return 1; }\n};\nvoid g()\n{\n  if (x) { y(); }\n}\n';

  it('finds the matching brace of a block, nested blocks included', () => {
    const { open, close } = blockAfter(code, 'void g()');
    expect(code.slice(open, close + 1)).toBe('{\n  if (x) { y(); }\n}');
  });

  it('replaces a body and removes a struct with its semicolon', () => {
    expect(replaceBody(code, 'void g()', '    z();')).toContain('void g()\n{\n    z();\n  }');
    expect(removeBlock(code, 'struct a\n')).toBe('\nvoid g()\n{\n  if (x) { y(); }\n}\n');
  });

  it('stops on a text that is missing or not unique: another wllama must be reviewed', () => {
    expect(() => once('a a', 'a', 'b')).toThrow(/expected exactly one "a", found 2/);
    expect(() => blockAfter(code, 'void h()')).toThrow(/expected exactly one "void h\(\)"/);
    expect(() => adaptContext('#include "x.h"\n', '')).toThrow(/server-decision\.h/);
    expect(() => adaptCMake('project("wllama")')).toThrow(/server-decision\.cpp/);
  });
});
