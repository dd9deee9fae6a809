#!/usr/bin/env node
// tea-model: pack a GGUF into chunks + manifest, verify a packed folder, inspect a GGUF.
//   tea-model pack model.gguf --out dir [--max-chunk-size 1.9G] [--layout gguf-split|byte-chunks] [--id ID] [--model-version V]
//   tea-model verify dir/manifest.json
//   tea-model inspect model.gguf [--json] [--n-ctx 4096]
//   tea-model index a/manifest.json b/manifest.json --out models.json [--label ID=TEXT]
import { parseArgs } from 'node:util';
import { ModelLoaderError } from '../errors.js';
import { parseByteSize } from '../parse-byte-size.js';
import { indexModels } from './index-models.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { verify } from './verify.js';

const USAGE = `usage:
  tea-model pack <model.gguf> --out <dir> [--max-chunk-size 1.9G] [--layout gguf-split|byte-chunks] [--id ID] [--model-version V]
  tea-model verify <dir/manifest.json>
  tea-model inspect <model.gguf | first-shard.gguf> [--json] [--n-ctx 4096]
  tea-model index <manifest.json>... --out <models.json> [--label ID=TEXT]...`;

const HELP: Record<string, string> = {
  pack: `tea-model pack <model.gguf> --out <dir> [options]
  Writes llama.cpp gguf-split shards (or byte chunks) and manifest.json for the browser loader.
  --out <dir>               output folder (required)
  --max-chunk-size <size>   largest shard, e.g. 512M or 1.9G (default 1.9G; under 2 GiB)
  --block-size <size>       block of the per-block hashes the browser verifies as it downloads
                            (default 4M; 64K to 256M)
  --layout gguf-split|byte-chunks   (default gguf-split)
  --id <id>                 model id in the manifest (default: the file name)
  --model-version <v>       model version in the manifest (default 1)`,
  verify: `tea-model verify <dir/manifest.json>
  Re-hashes every chunk against the manifest; exits 1 when one fails.`,
  inspect: `tea-model inspect <model.gguf | first-shard.gguf> [--json] [--n-ctx 4096]
  Architecture, split info and the memory the model needs (weights, KV cache, compute).`,
  index: `tea-model index <manifest.json>... --out <models.json> [--label ID=TEXT]...
  Writes the model profiles (models.json) the sdk chooses from.`,
};

const OPTIONS = {
  out: { type: 'string' },
  'max-chunk-size': { type: 'string' },
  'block-size': { type: 'string' },
  layout: { type: 'string' },
  id: { type: 'string' },
  'model-version': { type: 'string' },
  json: { type: 'boolean', default: false },
  'n-ctx': { type: 'string' },
  label: { type: 'string', multiple: true },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/** One command: its first argument, the options and every positional; the exit code. */
type Command = (target: string, values: Values, positionals: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  async pack(target, values) {
    if (!values.out) throw new ModelLoaderError('INVALID_ARGUMENT', 'pack needs --out <dir>');
    const layout = values.layout ?? 'gguf-split';
    if (layout !== 'gguf-split' && layout !== 'byte-chunks')
      throw new ModelLoaderError(
        'INVALID_ARGUMENT',
        `--layout must be gguf-split or byte-chunks, got ${layout}`,
      );
    await pack(target, {
      out: values.out,
      layout,
      ...(values['max-chunk-size']
        ? { maxChunkBytes: parseByteSize(values['max-chunk-size']) }
        : {}),
      ...(values['block-size'] ? { blockBytes: parseByteSize(values['block-size']) } : {}),
      ...(values.id ? { id: values.id } : {}),
      ...(values['model-version'] ? { version: values['model-version'] } : {}),
      log: (line) => console.log(line),
      warn: (line) => console.warn(line),
    });
    return 0;
  },

  async verify(target) {
    const results = await verify(target);
    for (const r of results)
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file}${r.problem ? `: ${r.problem}` : ''}`);
    const bad = results.filter((r) => !r.ok).length;
    console.log(
      bad
        ? `${bad} of ${results.length} chunks failed verification`
        : `all ${results.length} chunks verified`,
    );
    return bad ? 1 : 0;
  },

  async index(_target, values, positionals) {
    if (!values.out)
      throw new ModelLoaderError('INVALID_ARGUMENT', 'index needs --out <models.json>');
    const labels: Record<string, string> = {};
    for (const l of values.label ?? []) {
      const eq = l.indexOf('=');
      if (eq < 1)
        throw new ModelLoaderError('INVALID_ARGUMENT', `--label must be ID=TEXT, got ${l}`);
      labels[l.slice(0, eq)] = l.slice(eq + 1);
    }
    const index = await indexModels(positionals, { out: values.out, labels });
    for (const p of index.profiles)
      console.log(
        `${p.id} v${p.version}: ${p.totalBytes} bytes in ${p.chunks} chunks, runs on ${p.modes.join(' + ')}`,
      );
    console.log(`wrote ${values.out} (${index.profiles.length} profiles)`);
    return 0;
  },

  async inspect(target, values) {
    const nCtx = values['n-ctx'] ? Number(values['n-ctx']) : undefined;
    if (nCtx !== undefined && !(Number.isSafeInteger(nCtx) && nCtx > 0))
      throw new ModelLoaderError(
        'INVALID_ARGUMENT',
        `--n-ctx must be a positive integer, got ${values['n-ctx']}`,
      );
    const info = await inspect(target, nCtx);
    if (values.json) {
      console.log(JSON.stringify(info, null, 2));
      return 0;
    }
    console.log(
      `${info.file}: ${info.bytes} bytes, architecture ${info.architecture ?? '?'}, ${info.tensorCount} tensors, file type ${info.fileType ?? '?'}`,
    );
    if (info.split)
      console.log(
        `gguf-split shard ${info.split.no + 1} of ${info.split.count} (${info.split.tensorsTotal} tensors in all, ${info.split.shardsRead} shard headers read)`,
      );
    const r = info.resources;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(
      `weights ${mib(r.weightsBytes)}: ${mib(r.cpuBytes)} stay on the CPU side under WebGPU offload, ${mib(r.offloadableBytes)} offloadable; KV cache ${mib(r.kvBytesPer1kTokens)} per 1k tokens`,
    );
    console.log(
      `runs on: ${info.modes.join(', ') || 'nothing (too large even with offload)'} at ${info.nCtx} tokens of context`,
    );
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(`${USAGE}\n\nRun tea-model <command> --help for a command's options.`);
    return command === undefined ? 2 : 0;
  }
  if (HELP[command] && (rest.includes('--help') || rest.includes('-h'))) {
    console.log(HELP[command]);
    return 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: OPTIONS,
  });
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run || !HELP[command]) {
    console.error(`tea-model: unknown command '${command}'\n${USAGE}`);
    return 2;
  }
  const target = positionals[0];
  if (!target) {
    console.error(`tea-model ${command}: missing argument\n${HELP[command]}`);
    return 2;
  }
  return run(target, values, positionals);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`tea-model: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
