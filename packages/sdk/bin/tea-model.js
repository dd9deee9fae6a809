#!/usr/bin/env node
// `tea-model` for every package manager: pnpm and yarn link only the bins of the packages a
// project depends on, so the sdk carries this one. It runs the CLI of the model-loader that the
// sdk depends on (its package.json's `bin`), with the same arguments.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const manifest = require.resolve('@the-edge-agent/model-loader/package.json');
const { bin } = require(manifest);
await import(pathToFileURL(join(dirname(manifest), bin['tea-model'])).href);
