import { type IDBPDatabase, openDB } from 'idb';
import { ModelCacheError } from './errors.js';
import { type CacheSchema, SCHEMA_VERSION } from './schema.js';

/** How long to wait for other tabs to release an old schema version before failing. */
export const DEFAULT_BLOCKED_TIMEOUT_MS = 10_000;

/**
 * Opens the database and migrates it. When another tab upgrades the schema, this connection
 * closes itself (`versionchange`) so the upgrade is not blocked, and `onClosed` lets the cache
 * reopen on next use. If this open is blocked by an old connection elsewhere, it fails with
 * `BLOCKED` after `blockedTimeoutMs` instead of hanging.
 */
export async function openDatabase(
  dbName: string,
  onClosed: () => void,
  blockedTimeoutMs = DEFAULT_BLOCKED_TIMEOUT_MS,
): Promise<IDBPDatabase<CacheSchema>> {
  if (!(globalThis as { indexedDB?: unknown }).indexedDB) {
    throw new ModelCacheError('STORAGE_UNAVAILABLE', 'IndexedDB is not available here');
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wasBlocked = false;
  const opening = openDB<CacheSchema>(dbName, SCHEMA_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('models', { keyPath: 'id' });
        const chunks = db.createObjectStore('chunks', { keyPath: ['modelId', 'sha256'] });
        chunks.createIndex('by-model', 'modelId');
      }
      if (oldVersion < 2) {
        const segments = db.createObjectStore('segments', {
          keyPath: ['modelId', 'sha256', 'offset'],
        });
        segments.createIndex('by-chunk', ['modelId', 'sha256']);
        segments.createIndex('by-model', 'modelId');
      }
    },
    blocked() {
      wasBlocked = true;
    },
    blocking() {
      // Another tab wants a newer schema: step aside instead of hanging it.
      opening.then((db) => db.close()).catch(() => undefined);
      onClosed();
    },
    terminated() {
      onClosed();
    },
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = wasBlocked
        ? 'another tab keeps an older version of it open'
        : 'it did not open in time';
      reject(
        new ModelCacheError(
          'BLOCKED',
          `opening the model cache "${dbName}" is blocked: ${why}; close other tabs of this site`,
        ),
      );
    }, blockedTimeoutMs);
  });
  try {
    return await Promise.race([opening, timeout]);
  } catch (cause) {
    if (cause instanceof ModelCacheError) throw cause;
    throw new ModelCacheError(
      'DB_ERROR',
      `could not open the model cache: ${(cause as Error).message}`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
  }
}
