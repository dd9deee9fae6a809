import { ModelLoaderError } from '@the-edge-agent/model-loader';
import { pageUrl } from './config.js';

/**
 * Fetches a JSON document the sdk reads (a manifest, a models.json), its URL resolved against
 * the page. Returns the absolute URL (what its relative links resolve against) and the text.
 * @throws {ModelLoaderError} `HTTP_ERROR` naming `what`, the URL and the status.
 */
export async function fetchDocument(
  source: string | URL,
  what: string,
  signal?: AbortSignal,
): Promise<{ url: string; text: string }> {
  const url = new URL(String(source), pageUrl()).href;
  const response = await fetch(url, signal ? { signal } : {});
  if (!response.ok)
    throw new ModelLoaderError('HTTP_ERROR', `${what} ${url}: HTTP ${response.status}`, {
      url,
      status: response.status,
    });
  return { url, text: await response.text() };
}
