/**
 * Parameters of a sweep address a field of the base spec by a JSON path: dot-separated keys with `[i]`
 * for array elements (`job.beta`, `job.optimizer.lr[0]`). Setting one copies along the path and never
 * mutates the spec it was given.
 */
import { SpecError } from '../../base/errors.js';

export type PathKey = string | number;

const PATH_SYNTAX = /^[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*|\[\d+\])*$/;

export const JSON_PATH_HELP = 'dot-separated keys with [i] for array elements, e.g. "job.beta" or "job.optimizer.lr[0]"';

/** The keys of a path; throws a SpecError at `where` when it is not one. */
export function parseJsonPath(text: string, where: string): PathKey[] {
  if (!PATH_SYNTAX.test(text)) throw new SpecError(where, `${JSON.stringify(text)} is not a JSON path; write ${JSON_PATH_HELP}`);
  const keys: PathKey[] = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) keys.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  return keys;
}

/**
 * A copy of `root` with the value at `keys` replaced. Every container on the way must exist in `root`
 * (an object for a key, an array long enough for an index): a sweep changes fields of its base spec, and
 * a path that reaches nothing is almost always a typo, which the error names.
 */
export function setAtPath(root: unknown, keys: readonly PathKey[], value: unknown, where: string): unknown {
  const walk = (node: unknown, depth: number): unknown => {
    const key = keys[depth]!;
    const here = keys.slice(0, depth).reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '') || '(the spec)';
    if (typeof key === 'number') {
      if (!Array.isArray(node)) throw new SpecError(where, `${here} is not an array in the base spec, so [${key}] cannot be set`);
      if (key >= node.length) throw new SpecError(where, `${here} has ${node.length} elements in the base spec; index [${key}] is past its end`);
      const copy = [...node];
      copy[key] = depth === keys.length - 1 ? value : walk(node[key], depth + 1);
      return copy;
    }
    if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new SpecError(where, `${here} is not an object in the base spec, so .${key} cannot be set`);
    const record = node as Record<string, unknown>;
    if (depth < keys.length - 1 && !(key in record)) throw new SpecError(where, `the base spec has no ${here === '(the spec)' ? key : `${here}.${key}`}; a parameter path must lead through fields the base spec has`);
    return { ...record, [key]: depth === keys.length - 1 ? value : walk(record[key], depth + 1) };
  };
  return walk(root, 0);
}
