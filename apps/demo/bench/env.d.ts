// The bench page's aliases (vite.config.ts, `--mode bench`): llm-bridge's 16 GiB wllama build.
declare module 'wllama-16g' {
  export { Wllama } from '@wllama/wllama';
}
declare module 'wllama-16g-wasm?url' {
  const url: string;
  export default url;
}
declare module 'wllama-cpu-relaxed-wasm?url' {
  const url: string;
  export default url;
}
declare module 'wllama-cpu-glue' {
  export const WLLAMA_CPU_GLUE: string;
}
declare module 'wllama-cpu-simd128-wasm?url' {
  const url: string;
  export default url;
}
