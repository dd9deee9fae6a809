import { describe, expect, it } from 'vitest';
import { buildGemmaVocab, GEMMA_SPECIAL, TokenType } from './vocab.js';

describe('buildGemmaVocab', () => {
  it("has exactly Gemma 3n's 262144 tokens, all unique, so token -> id -> token round-trips", () => {
    const v = buildGemmaVocab();
    expect(v.tokens).toHaveLength(262144);
    expect(v.types).toHaveLength(262144);
    expect(v.scores).toHaveLength(262144);
    const ids = new Map(v.tokens.map((t, id) => [t, id]));
    expect(ids.size).toBe(262144);
    expect(v.tokens.every((t, id) => ids.get(t) === id)).toBe(true);
  });

  it("keeps Gemma's special tokens, the chat turn markers and all 256 byte tokens before the text", () => {
    const v = buildGemmaVocab(1024);
    expect(v.tokens).toHaveLength(1024);
    expect(v.tokens[GEMMA_SPECIAL.pad]).toBe('<pad>');
    expect(v.tokens[v.eos]).toBe('<eos>');
    expect(v.tokens[v.bos]).toBe('<bos>');
    expect(v.tokens[v.unk]).toBe('<unk>');
    expect(v.types[v.unk]).toBe(TokenType.UNKNOWN);
    expect(v.tokens[GEMMA_SPECIAL.startOfTurn]).toBe('<start_of_turn>');
    expect(v.tokens[GEMMA_SPECIAL.endOfTurn]).toBe('<end_of_turn>');
    const bytes = v.tokens.filter((t) => /^<0x[0-9A-F]{2}>$/.test(t));
    expect(bytes).toHaveLength(256);
    expect(v.tokens.indexOf('<0x0A>')).toBeLessThan(v.firstTextToken);
    expect(v.types.slice(0, v.firstTextToken).includes(TokenType.NORMAL)).toBe(false);
    expect(v.types.slice(v.firstTextToken).every((t) => t === TokenType.NORMAL)).toBe(true);
    expect(v.tokens.slice(v.firstTextToken, v.firstTextToken + 3)).toEqual(['▁', 'a', 'b']);
  });

  it('refuses a size too small for its fixed tokens', () => {
    expect(() => buildGemmaVocab(300)).toThrow(RangeError);
  });
});
