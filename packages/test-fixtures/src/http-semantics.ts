import type { FileVersion } from './file-versions.js';

/** Whether an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 says for it). */
export function noneMatch(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

/** Whether `Accept-Encoding` allows gzip (a `q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [name, ...params] = part.trim().split(';');
    if (name?.trim().toLowerCase() !== 'gzip' && name?.trim() !== '*') return false;
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined || Number(q) > 0;
  });
}

/** The ETag of a version's gzip encoding. */
export const gzipEtag = (etag: string) => etag.replace(/"$/, '-gz"');

/**
 * RFC 9110 section 13.2.2: `If-None-Match`, else `If-Modified-Since`. The ETag the 304 names
 * (the gzip one when only that matched), or undefined: the request goes on.
 */
export function notModified(
  version: FileVersion,
  inm: string | undefined,
  ims: string | undefined,
  gzip: boolean,
): string | undefined {
  const { etag } = version;
  const since = Date.parse(ims ?? '');
  const matched =
    inm !== undefined
      ? noneMatch(inm, etag) || (gzip && noneMatch(inm, gzipEtag(etag)))
      : Number.isFinite(since) && version.lastModified * 1000 <= since;
  if (!matched) return undefined;
  return inm !== undefined && !noneMatch(inm, etag) ? gzipEtag(etag) : etag;
}

/** The `Range` that applies after `If-Range` (a strong ETag exactly, or the exact date). */
export function rangeAfterIfRange(
  version: FileVersion,
  range: string | undefined,
  ifRange: string | undefined,
): string | undefined {
  if (range === undefined || ifRange === undefined) return range;
  const value = ifRange.trim();
  const holds = value.startsWith('"')
    ? value === version.etag
    : !value.startsWith('W/') && Date.parse(value) === version.lastModified * 1000;
  return holds ? range : undefined;
}

/** A `Range: bytes=` header read: undefined for none or a syntactically invalid one (200). */
export function parseRange(
  header: string | undefined,
): { first: string; last: string } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] !== '' && m[2] !== '' && Number(m[2]) < Number(m[1])) return undefined;
  return { first: m[1]!, last: m[2]! };
}
