import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where setup puts the offline toolchain's Debian sid userland (llama.cpp-tools, python3-gguf):
 * the same rule as scripts/lib/common.sh (`$TEA_SID_ROOT`, else `$TEA_CACHE_DIR/sid-root`, else
 * `${XDG_CACHE_HOME:-~/.cache}/tea-wasm-llm/sid-root`). Tests and benchmarks use it for native
 * llama.cpp and gguf-py where the machine has them.
 */
export function sidRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env['TEA_SID_ROOT'] ??
    join(
      env['TEA_CACHE_DIR'] ??
        join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tea-wasm-llm'),
      'sid-root',
    )
  );
}
