#!/usr/bin/env node
// @ts-check
// Adapts wllama 3.13's C++ glue (cpp/wllama-context.h, CMakeLists.txt) to the llama.cpp tree this
// build has (node-llama-cpp 3.22.1's, 2026-09-28), which predates the server parts 3.13 was written
// against. What needs them is cut out and answers with an error instead:
//   - decision models ("systemone"), text to speech, realtime audio and transcription (ASR): none
//     is used by llm-bridge, and each now throws "… is not available in this build of wllama";
//   - the chat-session plumbing of newer servers: create_completion_task and the glue's own
//     server_response_reader methods come from wllama 3.6.1's glue, which matches this llama.cpp.
// The wire protocol (cpp/glue.hpp) stays 3.13's, so wllama 3.13's JavaScript talks to the result
// unchanged. Every edit must match exactly once, or the build stops: another wllama or llama.cpp
// has to be reviewed before it is adapted.
//
// Usage: node adapt-wllama-glue.mjs <wllama-3.13-package> <wllama-3.6.1-package> <out-dir>
import { mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';

/** @param {string} text @param {string} find @param {string} replace */
export function once(text, find, replace) {
  const n = text.split(find).length - 1;
  if (n !== 1)
    throw new Error(`glue adapter: expected exactly one "${find.slice(0, 80)}", found ${n}`);
  return text.replace(find, () => replace);
}

/**
 * The span of the `{ … }` block that starts at the first `{` after `signature`.
 * @param {string} text @param {string} signature
 * @returns {{ start: number, open: number, close: number }}
 */
export function blockAfter(text, signature) {
  const start = text.indexOf(signature);
  if (start < 0 || text.indexOf(signature, start + 1) >= 0)
    throw new Error(`glue adapter: expected exactly one "${signature.trim()}"`);
  const open = text.indexOf('{', start + signature.length - 1);
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return { start, open, close: i };
  }
  throw new Error(`glue adapter: unbalanced braces after "${signature.trim()}"`);
}

/** Replaces the body of the block after `signature` with `body`. */
export function replaceBody(
  /** @type {string} */ text,
  /** @type {string} */ signature,
  /** @type {string} */ body,
) {
  const { open, close } = blockAfter(text, signature);
  return `${text.slice(0, open)}{\n${body}\n  }${text.slice(close + 1)}`;
}

/** Removes `signature` and its block (and a `;` right after it). */
export function removeBlock(/** @type {string} */ text, /** @type {string} */ signature) {
  const { start, close } = blockAfter(text, signature);
  const end = text[close + 1] === ';' ? close + 2 : close + 1;
  return text.slice(0, start) + text.slice(end);
}

const notAvailable = (/** @type {string} */ what) =>
  `    throw app_exception("${what} is not available in this build of wllama (tea-wasm-llm's CPU build)");`;

/**
 * @param {string} ctx313 wllama 3.13's cpp/wllama-context.h
 * @param {string} ctx361 wllama 3.6.1's cpp/wllama-context.h
 */
export function adaptContext(ctx313, ctx361) {
  let s = ctx313;
  s = once(s, '#include "server-decision.h"\n', '');
  s = once(s, '#include "server-realtime.cpp"\n', '');
  s = removeBlock(s, 'struct run_queue_scope\n');
  s = once(s, 'static bool run_queue_in_next = false;\n', '');
  for (const sig of [
    'struct realtime_conn : server_http_context::ws_conn',
    'struct realtime_session\n',
    'struct realtime_session_conversation : realtime_session',
    'struct realtime_session_live : realtime_session',
    '  struct decision_request\n',
  ])
    s = removeBlock(s, sig);
  for (const member of [
    '  server_decision_context decision;\n',
    '  std::unordered_map<int, decision_request> decision_reqs; // keyed by req_id\n',
    '  std::unordered_map<int, std::unique_ptr<realtime_session>> realtime_sessions; // keyed by req_id\n',
    '  mtmd_helper_cap mtmd_cap{};\n',
    '  llama_tokens asr_prompt; // prompt of the "asr" chat template, for live ASR\n',
    '    decision.init(model);\n    mtmd_cap = mtmd_helper_get_capabilities(model, shared_mctx);\n    asr_prompt = server_chat_get_asr_prompt(model);\n',
    '      realtime_sessions.erase(req.req_id.value);\n',
  ])
    s = once(s, member, '');
  s = once(
    s,
    `    res.has_audio_output.value = server_meta.has_cap_tts;
    res.has_chat.value = server_meta.has_cap_chat;
    res.has_audio_stream.value = server_meta.has_audio_stream;
    res.has_live_asr.value = server_meta.has_audio_stream && (!mtmd_cap.chat || !asr_prompt.empty());
    res.audio_input_rate.value = server_meta.has_inp_audio ? mtmd_get_audio_sample_rate(shared_mctx) : 0;
    res.audio_output_rate.value = server_meta.has_cap_tts ? mtmd_gen_audio_get_info(shared_mctx).sample_rate : 0;
    res.audio_voices.arr = server_meta.tts_voices;
`,
    `    res.has_audio_output.value = false;
    res.has_chat.value = true;
    res.has_audio_stream.value = false;
    res.has_live_asr.value = false;
    res.audio_input_rate.value = 0;
    res.audio_output_rate.value = 0;
`,
  );
  s = replaceBody(
    s,
    '  glue_msg_systemone_res action_systemone(const char *req_raw)',
    notAvailable('Decision models (systemone)'),
  );
  s = replaceBody(
    s,
    '  void create_tts_task(server_response_reader &rd, std::string &req_raw, std::vector<raw_buffer> &files)',
    notAvailable('Text to speech'),
  );
  s = replaceBody(
    s,
    '  glue_msg_realtime_start_res action_realtime_start(const char *req_raw)',
    notAvailable('Realtime audio'),
  );
  s = replaceBody(
    s,
    '  glue_msg_realtime_send_res action_realtime_send(const char *req_raw)',
    notAvailable('Realtime audio'),
  );
  s = removeBlock(s, '  json format_decision_response(const decision_request &dreq)');
  s = removeBlock(
    s,
    '    auto session = realtime_sessions.find(req.req_id.value);\n    if (session != realtime_sessions.end())\n',
  );
  const decisionBranch =
    '      else if (auto *dres = dynamic_cast<server_task_result_decision *>(result.get()))';
  const afterDecision = '      else\n      {\n        // completion result';
  s =
    s.slice(0, s.indexOf(decisionBranch)) +
    s.slice(s.indexOf(afterDecision, s.indexOf(decisionBranch)));
  if (s.includes('decision_reqs.erase(req.req_id.value);\n'))
    s = s.replaceAll('      decision_reqs.erase(req.req_id.value);\n', '');
  const ttsBranch = '      if (auto *tts = dynamic_cast<server_task_result_tts *>(result.get()))';
  const embd = '      else if (auto *embd = dynamic_cast<server_task_result_embd *>(result.get()))';
  s =
    s.slice(0, s.indexOf(ttsBranch)) +
    embd.replace('else if', 'if') +
    s.slice(s.indexOf(embd, s.indexOf(ttsBranch)) + embd.length);

  // The server API of this llama.cpp: 3.6.1's completion task and reader methods.
  const sig361 =
    '  void create_completion_task(server_response_reader &rd, std::string &req_raw, std::vector<raw_buffer> &files, bool is_chat)';
  const b361 = blockAfter(ctx361, sig361);
  s = replaceBody(
    s,
    '  void create_completion_task(server_response_reader &rd, std::string &req_raw, std::vector<raw_buffer> &files, bool is_chat, bool is_asr)',
    `    if (is_asr)\n    {\n  ${notAvailable('Transcription (ASR)')}\n    }\n${ctx361.slice(b361.open + 1, b361.close).replace(/\s+$/, '')}`,
  );
  s = once(
    s,
    'if (has_memory && !is_last_pooling && llama_get_causal_attn(lctx))',
    'if (has_memory && !is_last_pooling)',
  );
  s = once(
    s,
    'format_prompt_rerank(model, vocab, nullptr, query, document, {}, {}, mtmd_helper_init_opt_default())',
    'format_prompt_rerank(model, vocab, nullptr, query, document, mtmd_helper_init_opt_default())',
  );
  const mark = '////////////////////////////\n// server_response_reader\n';
  s = s.slice(0, s.indexOf(mark)) + ctx361.slice(ctx361.indexOf(mark));
  for (const gone of [
    'decision',
    'realtime',
    'run_queue_in_next',
    'server_task_result_tts',
    'asr_prompt',
  ])
    if (new RegExp(`\\b${gone}\\b`).test(s.replace(/\/\/.*$/gm, '').replace(/"[^"\n]*"/g, '')))
      throw new Error(`glue adapter: "${gone}" is still used after the adaptation`);
  return s;
}

/**
 * wllama 3.13's CMakeLists.txt for this build: no server-decision.cpp, the llama.cpp version from
 * cache variables (the tree has no usable git history), and a 16 GiB memory64 maximum.
 * @param {string} cmake
 */
export function adaptCMake(cmake) {
  let s = cmake;
  s = once(s, '    llama.cpp/tools/server/server-decision.cpp\n', '');
  s = once(s, '-sMAXIMUM_MEMORY=4096MB', '-sMAXIMUM_MEMORY=16384MB');
  const start = s.indexOf('# must match LIBLLAMA_VERSION');
  const end = s.indexOf('set_source_files_properties(cpp/wllama.cpp');
  if (start < 0 || end < start)
    throw new Error('glue adapter: LIBLLAMA_VERSION block not found in CMakeLists.txt');
  return (
    s.slice(0, start) +
    'set(LIBLLAMA_BUILD_NUMBER "0" CACHE STRING "llama.cpp build number")\n' +
    'set(LIBLLAMA_COMMIT "unknown" CACHE STRING "llama.cpp commit")\n' +
    s.slice(end)
  );
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const [w313, w361, out] = process.argv.slice(2);
  if (!w313 || !w361 || !out) {
    console.error(
      'usage: adapt-wllama-glue.mjs <wllama-3.13-package> <wllama-3.6.1-package> <out-dir>',
    );
    process.exit(2);
  }
  try {
    mkdirSync(out, { recursive: true });
    cpSync(join(w313, 'cpp'), join(out, 'cpp'), { recursive: true });
    const ctx = adaptContext(
      readFileSync(join(w313, 'cpp/wllama-context.h'), 'utf8'),
      readFileSync(join(w361, 'cpp/wllama-context.h'), 'utf8'),
    );
    writeFileSync(join(out, 'cpp/wllama-context.h'), ctx);
    writeFileSync(
      join(out, 'CMakeLists.txt'),
      adaptCMake(readFileSync(join(w313, 'CMakeLists.txt'), 'utf8')),
    );
    process.stdout.write(`adapted wllama 3.13's glue into ${out}\n`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
