#!/usr/bin/env node
// tea-model: pack a GGUF into chunks + manifest, verify a packed folder, inspect a GGUF.
//   tea-model pack model.gguf --out dir [--max-chunk-size 1.9G] [--layout gguf-split|byte-chunks] [--id ID] [--model-version V]
//   tea-model verify dir/manifest.json
//   tea-model inspect model.gguf [--json]
import { parseArgs } from 'node:util';
import { ModelLoaderError } from '../errors.js';
import { parseByteSize } from '../parse-byte-size.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { verify } from './verify.js';

const USAGE = `usage:
  tea-model pack <model.gguf> --out <dir> [--max-chunk-size 1.9G] [--layout gguf-split|byte-chunks] [--id ID] [--model-version V]
  tea-model verify <dir/manifest.json>
  tea-model inspect <model.gguf> [--json]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      'max-chunk-size': { type: 'string' },
      layout: { type: 'string' },
      id: { type: 'string' },
      'model-version': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const target = positionals[0];
  if (!target || !['pack', 'verify', 'inspect'].includes(command ?? '')) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'pack') {
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
      ...(values.id ? { id: values.id } : {}),
      ...(values['model-version'] ? { version: values['model-version'] } : {}),
      log: (line) => console.log(line),
    });
    return 0;
  }
  if (command === 'verify') {
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
  }
  const info = await inspect(target);
  if (values.json) console.log(JSON.stringify(info, null, 2));
  else {
    console.log(
      `${info.file}: ${info.bytes} bytes, architecture ${info.architecture ?? '?'}, ${info.tensorCount} tensors, file type ${info.fileType ?? '?'}`,
    );
    if (info.split)
      console.log(
        `gguf-split shard ${info.split.no + 1} of ${info.split.count} (${info.split.tensorsTotal} tensors in all)`,
      );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`tea-model: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
