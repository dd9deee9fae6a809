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

/** Gemma's special token ids (pad/eos/bos/unk and the chat turn markers), as in Gemma 3 / 3n. */
export const GEMMA_SPECIAL = {
  pad: 0,
  eos: 1,
  bos: 2,
  unk: 3,
  startOfTurn: 105,
  endOfTurn: 106,
} as const;

const ALNUM = [...LETTERS, ...LETTERS.map((l) => l.toUpperCase()), ...'0123456789'];

/**
 * An SPM vocabulary of exactly `size` unique tokens (default 262144, Gemma 3n's) laid out like
 * Gemma's: `<pad>` `<eos>` `<bos>` `<unk>` at 0-3, `<mask>` and `<unused0>`..`<unused99>`
 * up to `<start_of_turn>` (105) and `<end_of_turn>` (106), then the 256 byte tokens, then text
 * pieces (`▁`, letters, digits, `▁`+letter or digit, and words `▁w0`, `▁w1`, ... up to the size).
 * Every id below `firstTextToken` is special or a byte.
 */
export function buildGemmaVocab(size = 262144): Vocab & { pad: number } {
  const tokens = ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>'];
  const types: number[] = [TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL];
  types.push(TokenType.UNKNOWN, TokenType.CONTROL);
  while (tokens.length < GEMMA_SPECIAL.startOfTurn) tokens.push(`<unused${tokens.length - 5}>`);
  tokens.push('<start_of_turn>', '<end_of_turn>');
  while (types.length < tokens.length) types.push(TokenType.CONTROL);
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TokenType.BYTE);
  }
  const firstTextToken = tokens.length;
  const text = ['▁', ...ALNUM, ...ALNUM.map((c) => `▁${c}`)];
  if (size < firstTextToken + text.length)
    throw new RangeError(`vocabulary size ${size} < ${firstTextToken + text.length}`);
  for (const t of text) tokens.push(t);
  for (let i = 0; tokens.length < size; i++) tokens.push(`▁w${i}`);
  while (types.length < size) types.push(TokenType.NORMAL);
  const scores = tokens.map((t, id) => (id < firstTextToken ? 0 : -1 / t.length));
  const { pad, eos, bos, unk } = GEMMA_SPECIAL;
  return { tokens, types, scores, unk, bos, eos, pad, firstTextToken };
}
