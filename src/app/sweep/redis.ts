/**
 * Where the queue lives: `redis://[:password@]host:port[/db]`, one BullMQ queue of trials shared by every
 * sweep and worker that use this Redis (trial ids are hashes of what they run, so sweeps cannot collide).
 */
import { SpecError } from '../../base/errors.js';

export const QUEUE_NAME = 'neurodyn-trials';
/** Key a controller sets to ask the worker running a trial to stop it (early stopping). */
export const stopKey = (id: string) => `neurodyn:stop:${id}`;

export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string;
  /** Safe to print (no password). */
  readonly display: string;
}

export function parseRedisUrl(text: string, option = '--queue'): RedisConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SpecError(option, `${JSON.stringify(text)} is not a Redis URL; write redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  }
  if (url.protocol !== 'redis:') throw new SpecError(option, `the queue is a Redis URL starting redis://; got ${JSON.stringify(text)}`);
  if (!url.hostname) throw new SpecError(option, `${JSON.stringify(text)} names no host; write redis://HOST:PORT`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new SpecError(option, `the path of a Redis URL is a database number; got ${JSON.stringify(url.pathname)}`);
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return { host: url.hostname, port, db: dbText === '' ? 0 : Number(dbText), ...(password ? { password } : {}), display: `redis://${url.hostname}:${port}${dbText ? `/${dbText}` : ''}` };
}

/** ioredis options: keep retrying while Redis is away (the sweep and the workers wait for it). */
export function ioredisOptions(c: RedisConnection, forWorker: boolean) {
  return {
    host: c.host,
    port: c.port,
    db: c.db,
    ...(c.password ? { password: c.password } : {}),
    // BullMQ's workers need null (block until Redis answers); the controller's commands fail fast and are retried by its loop.
    maxRetriesPerRequest: forWorker ? null : 1,
    enableOfflineQueue: forWorker,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
}
