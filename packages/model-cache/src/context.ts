import type { IDBPDatabase } from 'idb';
import type { CacheSchema } from './schema.js';
import type { Locks, ModelCacheOptions } from './types.js';

/** The cache's IndexedDB database. */
export type CacheDatabase = IDBPDatabase<CacheSchema>;

/** What the cache's modules share: its database (opened lazily) and the browser's services. */
export interface CacheContext {
  readonly dbName: string;
  database(): Promise<CacheDatabase>;
  /** `navigator.storage`, or the injected one; undefined where there is none. */
  storage(): ModelCacheOptions['storage'] | undefined;
  /** `navigator.locks`, or the injected ones; undefined where there are none. */
  locks(): Locks | undefined;
}
