/** llama.cpp token types (`tokenizer.ggml.token_type`). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

/** An SPM (llama) vocabulary and the ids of its special tokens. */
export interface Vocab {
  tokens: string[];
  types: number[];
  scores: number[];
  unk: number;
  bos: number;
  eos: number;
  /** Ids below this are special or byte tokens: the generator never lets them win greedy decoding. */
  firstTextToken: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

/**
 * A small SPM vocabulary that llama.cpp can tokenize any text with: `<unk>`, `<s>`, `</s>`, all
 * 256 byte-fallback tokens `<0x00>`..`<0xFF>` (SPM falls back to bytes for any character or
 * merge it lacks, and throws if the byte token is missing), `▁`, letters, `▁letter`, and
 * `wordCount` words `▁w0`... Every token is unique, so token -> id -> token round-trips.
 */
export function buildVocab(wordCount = 60): Vocab {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
  }
  const firstTextToken = tokens.length;
  const text = ['▁', ...LETTERS, ...LETTERS.map((l) => `▁${l}`)];
  for (let i = 0; i < wordCount; i++) text.push(`▁w${i}`);
  for (const t of text) {
    tokens.push(t);
    types.push(TokenType.NORMAL);
  }
  // SPM merges prefer higher scores: longer pieces score higher so words win over letters.
  const scores = tokens.map((t, id) => (id < firstTextToken ? 0 : -1 / t.length));
  return { tokens, types, scores, unk: 0, bos: 1, eos: 2, firstTextToken };
}
