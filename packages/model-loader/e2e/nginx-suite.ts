import { expect, test, type Page } from '@playwright/test';
import type { Published } from './nginx-model.js';
import { load, openNginxPage, removeNginxPage, writeNginxPage } from './nginx-page.js';
import { Nginx, type AccessEntry } from './nginx-server.js';

// What the nginx specs share: one nginx per spec file (started before its tests, stopped after
// them), whose site has a folder per way of serving, the test page, and the access-log queries
// the tests assert with.

/** The site's folders and their directives. */
const LOCATIONS = {
  plain: {},
  // limit_rate sends a second's worth at once, then keeps to the rate.
  slow: { limitRate: '100k' },
  gzip: { gzip: true, limitRate: '60k' },
  static: { gzipStatic: true, limitRate: '60k' },
  expires: { expires: '1h' },
  noetag: { etag: false, limitRate: '100k' },
  minimal: { cors: 'minimal' as const },
  noranges: { maxRanges: 0, limitRate: '100k' },
};

/** One spec's nginx and the helpers bound to it. */
export class NginxSuite {
  nginx!: Nginx;
  pagePath = '';

  get site(): string {
    return this.nginx.site;
  }

  manifestUrl(m: Published): string {
    return this.nginx.url(`${m.dir}/manifest.json`);
  }

  /** The access log's length: later requests are `from` it on. */
  mark(): number {
    return this.nginx.log().length;
  }

  /** The log's requests for `m`'s chunks (not its manifest) from entry `from` on. */
  chunks(m: Published, from = 0): AccessEntry[] {
    return this.nginx.requests(m.dir, from);
  }

  /** The Range requests of a resume: from a byte after 0, answered 206. */
  resumes(m: Published, from: number): AccessEntry[] {
    return this.chunks(m, from).filter((e) => e.status === 206 && /^bytes=[1-9]\d*-/.test(e.range));
  }

  /** All of `m`'s requests from entry `from` on, as text (for failure messages). */
  log(m: Published, from = 0): string {
    return this.nginx.describe(m.dir, from);
  }

  /** Opens the test page in `page`; returns the console lines it will print. */
  async open(page: Page): Promise<string[]> {
    const lines: string[] = [];
    await openNginxPage(page, this.pagePath, lines);
    return lines;
  }

  /** A load aborted once half of `m` has arrived; returns the bytes the store kept of it. */
  async abortHalfway(page: Page, m: Published): Promise<number> {
    const r = await load(page, this.manifestUrl(m), { abortAt: m.totalBytes / 2 });
    expect(r, this.log(m)).toMatchObject({ ok: false, code: 'ABORTED' });
    expect(r.afterAbortMs).toBeLessThan(2000);
    const kept = r.stats.models.find((x) => x.id === m.id)!;
    expect(kept.partialBytes).toBeGreaterThan(0);
    return kept.bytes + kept.partialBytes;
  }
}

/** Registers the spec's hooks: nginx and the test page before its tests, gone after them. */
export function nginxSuite(name: string): NginxSuite {
  const s = new NginxSuite();
  test.beforeAll(async () => {
    s.pagePath = writeNginxPage(name);
    s.nginx = await Nginx.start(LOCATIONS);
  });
  test.afterAll(async () => {
    await s.nginx?.stop();
    removeNginxPage(name);
  });
  return s;
}
