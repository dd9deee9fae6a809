#!/usr/bin/env node
// prepack: puts the repository's LICENSE into the package being packed (npm ships it).
import { copyFileSync } from 'node:fs';

copyFileSync(new URL('../../LICENSE', import.meta.url), 'LICENSE');
