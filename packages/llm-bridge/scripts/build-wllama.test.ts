import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTextChanges, build, JS_CHANGES, MAX_PAGES, WLLAMA_PIN } from './build-wllama.mjs';

const require = createRequire(import.meta.url);
const wllamaRoot = dirname(require.resolve('@wllama/wllama/package.json'));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('build-wllama', () => {
  it('is pinned to the installed wllama, byte for byte', () => {
    const pkg = JSON.parse(readFileSync(join(wllamaRoot, 'package.json'), 'utf8'));
    expect(pkg.version).toBe(WLLAMA_PIN.version);
    expect(sha256(readFileSync(join(wllamaRoot, WLLAMA_PIN.js.path)))).toBe(WLLAMA_PIN.js.sha256);
    expect(sha256(readFileSync(join(wllamaRoot, WLLAMA_PIN.wasm.path)))).toBe(
      WLLAMA_PIN.wasm.sha256,
    );
  });

  it('refuses a change whose text is missing or occurs twice', () => {
    const change = { why: 'test', find: 'maxBytes = 4096', replace: 'maxBytes = 16384' };
    expect(() => applyTextChanges('nothing here', [change])).toThrow(/found it 0 times/);
    expect(() => applyTextChanges('maxBytes = 4096; maxBytes = 4096', [change])).toThrow(
      /found it 2 times/,
    );
    expect(applyTextChanges('let maxBytes = 4096;', [change])).toBe('let maxBytes = 16384;');
  });

  it('changes exactly the five places in wllama 3.13, each once', () => {
    const stock = readFileSync(join(wllamaRoot, WLLAMA_PIN.js.path), 'utf8');
    const patched = applyTextChanges(stock, JS_CHANGES);
    expect(patched).toContain(`var getHeapMax=()=>${MAX_PAGES * 65536};`);
    expect(patched).toContain('let maxBytes = (isCompat ? 4096 : 16384) * 1024 * 1024;');
    expect(patched).toContain(
      'jsPath: this.pathConfig["default.js"] ? { code: this.pathConfig["default.js"] } : void 0,',
    );
    expect(patched.length - stock.length).toBe(
      JS_CHANGES.reduce((n, c) => n + c.replace.length - c.find.length, 0),
    );
  });

  it('records input and output hashes beside the shipped wasm', () => {
    const record = JSON.parse(
      readFileSync(new URL('../wasm/wllama-build.json', import.meta.url), 'utf8'),
    );
    expect(record.inputs.map((i: { sha256: string }) => i.sha256)).toEqual([
      WLLAMA_PIN.js.sha256,
      WLLAMA_PIN.wasm.sha256,
    ]);
    const wasm = readFileSync(new URL('../wasm/wllama.wasm', import.meta.url));
    expect(record.outputs[0]).toMatchObject({ file: 'wasm/wllama.wasm', sha256: sha256(wasm) });
    expect(record.memory64MaxBytes).toBe(16 * 2 ** 30);
  });

  it('ships the CPU build from source: both variants, one glue, every hash in the record', async () => {
    const record = JSON.parse(
      readFileSync(new URL('../wasm/wllama-build.json', import.meta.url), 'utf8'),
    );
    const source = JSON.parse(
      readFileSync(new URL('../wasm/wllama-cpu-build.json', import.meta.url), 'utf8'),
    );
    expect(record.cpu.key).toBe(source.key);
    expect(record.cpu.inputs.llamaCpp.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const variant of ['relaxed', 'simd128']) {
      const out = record.cpu.outputs.find((o: { variant?: string }) => o.variant === variant);
      const wasm = readFileSync(new URL(`../${out.file}`, import.meta.url));
      expect(sha256(wasm)).toBe(out.sha256);
      expect(sha256(wasm)).toBe(source.variants[variant]['wllama.wasm'].sha256);
    }
    // The glue change that lets pthread workers start wllama's worker code under Emscripten 6.
    const { WLLAMA_CPU_GLUE, WLLAMA_CPU_BUILD } = await import('../vendor/wllama-cpu-glue.js');
    expect(WLLAMA_CPU_GLUE.split('if(Module["mainScriptUrlOrBlob"])').length).toBe(2);
    expect(WLLAMA_CPU_BUILD.key).toBe(source.key);
    expect(sha256(WLLAMA_CPU_GLUE)).toBe(record.cpu.outputs.at(-1).sha256);
  });

  it("ships ggml's WebAssembly dot products in the CPU build, relaxed ones in its relaxed variant", () => {
    // Counted in the code section: i32x4.dot_i16x8_s (0xfd 0xba 0x01) and
    // i16x8.relaxed_dot_i8x16_i7x16_s (0xfd 0x92 0x02). The npm build runs ggml's generic C.
    const leb = (b: Uint8Array, at: number): [number, number] => {
      let value = 0;
      let shift = 0;
      let i = at;
      for (;;) {
        const x = b[i++]!;
        value += (x & 0x7f) * 2 ** shift;
        shift += 7;
        if (!(x & 0x80)) return [value, i];
      }
    };
    const code = (file: string) => {
      const b = new Uint8Array(readFileSync(new URL(`../wasm/${file}`, import.meta.url)));
      for (let i = 8; i < b.length;) {
        const id = b[i++]!;
        const [size, at] = leb(b, i);
        if (id === 10) return b.subarray(at, at + size);
        i = at + size;
      }
      throw new Error(`${file}: no code section`);
    };
    const count = (b: Uint8Array, seq: number[]) => {
      let n = 0;
      for (let i = 0; i + seq.length <= b.length; i++) if (seq.every((x, j) => b[i + j] === x)) n++;
      return n;
    };
    const dot = [0xfd, 0xba, 0x01];
    const relaxedDot = [0xfd, 0x92, 0x02];
    expect(count(code('wllama.wasm'), dot)).toBe(0);
    expect(count(code('wllama-cpu.wasm'), dot)).toBeGreaterThan(50);
    expect(count(code('wllama-cpu.wasm'), relaxedDot)).toBe(0);
    expect(count(code('wllama-cpu-relaxed.wasm'), relaxedDot)).toBeGreaterThan(20);
  });

  it('ships the patched code in the bundle, not an import of the stock package', () => {
    const dist = readFileSync(new URL('../dist/index.js', import.meta.url), 'utf8');
    expect(dist).not.toMatch(/from ['"]@wllama\/wllama['"]/);
    expect(dist).toContain('(isCompat ? 4096 : 16384) * 1024 * 1024');
    expect(dist).not.toContain('var getHeapMax=()=>4294967296;');
  });

  it('fails the build when an input file differs from the pinned one, and writes nothing', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'wllama-pin-'));
    try {
      const from = join(tmp, 'wllama');
      for (const f of ['package.json', 'LICENCE', WLLAMA_PIN.js.path, WLLAMA_PIN.wasm.path])
        cpSync(join(wllamaRoot, f), join(from, f), { recursive: true });
      // A build from an untouched copy succeeds and records the same hashes.
      build({ from, to: join(tmp, 'ok') });
      const record = JSON.parse(readFileSync(join(tmp, 'ok/wasm/wllama-build.json'), 'utf8'));
      expect(record.inputs[0].sha256).toBe(WLLAMA_PIN.js.sha256);
      // One changed byte in the JS: refused before anything is written.
      const js = readFileSync(join(from, WLLAMA_PIN.js.path), 'utf8');
      writeFileSync(join(from, WLLAMA_PIN.js.path), js.replace('getHeapMax', 'getHeapMAX'));
      expect(() => build({ from, to: join(tmp, 'bad') })).toThrow(/has SHA-256 .*, pinned/);
      expect(() => readFileSync(join(tmp, 'bad/wasm/wllama.wasm'))).toThrow();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
