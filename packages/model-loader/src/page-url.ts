import { ModelLoaderError } from './errors.js';

/** The page's location (undefined outside a browser page). */
export const pageUrl = () => (globalThis as { location?: { href: string } }).location?.href;

/**
 * `url` made absolute against the page.
 * @throws {ModelLoaderError} `INVALID_ARGUMENT` for text that is not a URL.
 */
export function absolute(url: string | URL): string {
  try {
    return new URL(String(url), pageUrl()).href;
  } catch {
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(String(url))} is not a URL (relative URLs need a page)`,
    );
  }
}
