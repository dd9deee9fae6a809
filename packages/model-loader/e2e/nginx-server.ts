import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real nginx (Debian's 1.22) for the browser suite, started unprivileged-style per run: a
// temporary prefix, a generated nginx.conf, one foreground process (no master, no daemon) that
// serves a temporary site folder on 127.0.0.1, and an access log of every request as JSON.

export const NGINX_BIN = process.env['TEA_NGINX_PATH'] ?? '/usr/sbin/nginx';

/** How one folder of the site is served (each a directive a real deployment would write). */
export interface NginxLocation {
  /** CORS for the test page's origin: `full` (the default, set on the server: `always`, the
   * headers a reader needs exposed) or `minimal` (only `Access-Control-Allow-Origin *`). */
  cors?: 'full' | 'minimal';
  /** `gzip on; gzip_types application/octet-stream;` */
  gzip?: boolean;
  /** `gzip_static on;` (serves `file.gz` beside `file` when the request allows gzip). */
  gzipStatic?: boolean;
  /** `expires` (e.g. `1h`: `Cache-Control: max-age=3600`). */
  expires?: string;
  /** `etag off;` (validators: `Last-Modified` only). */
  etag?: boolean;
  /** `limit_rate` per connection (e.g. `200k`). */
  limitRate?: string;
  /** `max_ranges` (0: Range requests get the whole file, 200). */
  maxRanges?: number;
}

/** The site's folders (`/name/`), each with its own directives. */
export type NginxOptions = Record<string, NginxLocation>;

/** One line of the access log. */
export interface AccessEntry {
  method: string;
  /** The decoded path (`$uri`). */
  uri: string;
  args: string;
  status: number;
  /** Bytes of the body sent (`$body_bytes_sent`). */
  body: number;
  bytes: number;
  range: string;
  ifRange: string;
  ifNoneMatch: string;
  ifModifiedSince: string;
  acceptEncoding: string;
  contentEncoding: string;
  /** The answer's `Cache-Control` (`expires` sets it). */
  cacheControl: string;
}

const LOG_FORMAT = `log_format tea escape=json '{"method":"$request_method","uri":"$uri","args":"$args",'
    '"status":$status,"bytes":$bytes_sent,"body":$body_bytes_sent,"range":"$http_range",'
    '"ifRange":"$http_if_range","ifNoneMatch":"$http_if_none_match",'
    '"ifModifiedSince":"$http_if_modified_since","acceptEncoding":"$http_accept_encoding",'
    '"contentEncoding":"$sent_http_content_encoding","cacheControl":"$sent_http_cache_control"}';`;

/** The headers a page on another origin needs to read (Content-Range above all). */
const EXPOSED =
  'Content-Range, Content-Length, Content-Encoding, ETag, Last-Modified, Accept-Ranges';

/** The directives of one `location /name/`. */
function locationBlock(name: string, l: NginxLocation): string {
  const lines = [
    l.cors === 'minimal' ? 'add_header Access-Control-Allow-Origin *;' : '',
    l.gzip ? 'gzip on; gzip_types application/octet-stream; gzip_min_length 20;' : '',
    l.gzipStatic ? 'gzip_static on;' : '',
    l.expires ? `expires ${l.expires};` : '',
    l.etag === false ? 'etag off;' : '',
    l.limitRate ? `limit_rate ${l.limitRate};` : '',
    l.maxRanges !== undefined ? `max_ranges ${l.maxRanges};` : '',
  ];
  return `location /${name}/ { ${lines.filter(Boolean).join(' ')} }`;
}

/** The nginx.conf of one run. */
export function nginxConf(prefix: string, root: string, port: number, o: NginxOptions): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 256; }
http {
  types { application/json json; text/html html; }
  default_type application/octet-stream;
  ${LOG_FORMAT}
  access_log ${prefix}/access.log tea;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  sendfile on;
  keepalive_timeout 10;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    # The test page is on another origin (Playwright's server): CORS on every answer.
    add_header Access-Control-Allow-Origin * always;
    add_header Access-Control-Expose-Headers "${EXPOSED}" always;
    ${Object.entries(o)
      .map(([name, l]) => locationBlock(name, l))
      .join('\n    ')}
  }
}
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, errors: () => string) {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${errors()}`);
    const up = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1', () => resolve(!!c.end()));
      c.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port} within 10 s: ${errors()}`);
}

/** Fails (never skips) when nginx is not installed. */
export function requireNginx(): void {
  if (!existsSync(NGINX_BIN) || spawnSync(NGINX_BIN, ['-v']).status !== 0)
    throw new Error(
      `nginx is not installed at ${NGINX_BIN}: run \`bash scripts/setup.sh\` (it installs Debian's nginx), or set TEA_NGINX_PATH`,
    );
}

/** A running nginx: its origin, its site folder, its access log. */
export class Nginx {
  private constructor(
    readonly origin: string,
    readonly site: string,
    private readonly prefix: string,
    private readonly child: ChildProcess,
    private readonly stderr: () => string,
  ) {}

  /**
   * Starts nginx on a free port over the site folder `site` (a new temporary one when not
   * given). As root it runs as `nobody` (via setpriv), so that `chmod 000` means 403 as it does
   * on a real server.
   */
  static async start(o: NginxOptions = {}, site?: string): Promise<Nginx> {
    requireNginx();
    const prefix = mkdtempSync(join(tmpdir(), 'tea-nginx-'));
    const root = site ?? join(prefix, 'site');
    mkdirSync(root, { recursive: true });
    const port = await freePort();
    writeFileSync(join(prefix, 'nginx.conf'), nginxConf(prefix, root, port, o));
    const args = ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')];
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(prefix, 65534, 65534);
    const child = asRoot
      ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NGINX_BIN, ...args])
      : spawn(NGINX_BIN, args);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const errors = () => `${stderr}${readText(join(prefix, 'error.log'))}`.slice(-2000);
    await waitForPort(port, child, errors);
    return new Nginx(`http://127.0.0.1:${port}`, root, prefix, child, errors);
  }

  url(path: string): string {
    return `${this.origin}/${path}`;
  }

  /** Every request nginx has logged so far (a request is logged when it ends). */
  log(): AccessEntry[] {
    return readText(join(this.prefix, 'access.log'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as AccessEntry);
  }

  /** The requests for files under `/dir/` (`chunks`: not its manifest), from entry `from` on. */
  requests(dir: string, from = 0, chunks = true): AccessEntry[] {
    return this.log()
      .slice(from)
      .filter((e) => e.uri.startsWith(`/${dir}/`) && !(chunks && e.uri.endsWith('/manifest.json')));
  }

  /** Those requests, one line each (for failure messages). */
  describe(dir: string, from = 0): string {
    const line = (e: AccessEntry) =>
      `${e.method} ${e.uri} ${e.status} ${e.body} B range=${e.range} if-range=${e.ifRange} if-none-match=${e.ifNoneMatch} if-modified-since=${e.ifModifiedSince} accept-encoding=${e.acceptEncoding} content-encoding=${e.contentEncoding}`;
    return this.requests(dir, from, false).map(line).join('\n');
  }

  /** What nginx's error log says (for failure messages). */
  errors(): string {
    return this.stderr();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.prefix, { recursive: true, force: true });
  }
}

/** Bytes of the bodies nginx sent for these requests. */
export const bodyBytes = (entries: AccessEntry[]) => entries.reduce((s, e) => s + e.body, 0);

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
