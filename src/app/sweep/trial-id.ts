/**
 * A trial is identified by what it runs: the SHA-256 of its resolved spec (seed included) in canonical
 * JSON (keys sorted). Two sweeps, or two controllers, that plan the same trial plan the same id, so the
 * queue keeps one job for it and the sweep folder one run folder.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** 16 hex digits (64 bits): a collision among 10^6 trials has odds below 10^-7. BullMQ ids may not contain ':'. */
export function trialId(resolvedSpec: unknown): string {
  return createHash('sha256').update(canonicalJson(resolvedSpec)).digest('hex').slice(0, 16);
}
