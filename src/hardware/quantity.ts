/**
 * A figure of a hardware profile: a number with its physical unit, where it comes from and how sure it is.
 * Units are parsed with mathjs (`"23.6 pJ"`, `"1 ms"`, `"128 KiB"`), so a profile cannot silently mix
 * picojoules with nanojoules: every field declares the dimension it must have, and a value of the wrong
 * dimension is an error naming the field.
 *
 * `status` keeps provenance honest: `published` (a number printed in the cited source, at `where`),
 * `derived` (arithmetic on published numbers, shown in `note`), `estimate` (our guess, rationale in `note`).
 * The cost report prints, next to every total, the share that rests on estimates.
 */
import { createRequire } from 'node:module';
import type { Unit } from 'mathjs';
import { SpecError } from '../base/errors.js';

// mathjs takes about 2 s to import and only profile figures need it: it is loaded on first use, so that
// commands that price nothing (validate, list, export, report, …) do not pay for it at start-up.
let unitParser: ((text: string) => Unit) | undefined;
function parseUnit(text: string): Unit {
  unitParser ??= (createRequire(import.meta.url)('mathjs') as typeof import('mathjs')).unit;
  return unitParser(text);
}

export type QuantityStatus = 'published' | 'derived' | 'estimate';

/** What a field measures, and the SI unit it is converted to for arithmetic. */
export type Dimension = 'energy' | 'time' | 'power' | 'bytes' | 'count';

export const SI_UNIT: Record<Dimension, string> = { energy: 'J', time: 's', power: 'W', bytes: 'B', count: '' };

/** A figure as written in a profile file. */
export interface QuantityInput {
  /** `"23.6 pJ"`; a plain number for counts (neurons, bits, cores). */
  readonly value: string | number;
  /** Optional published range `[low, high]`, same dimension as `value`. */
  readonly range?: readonly [string | number, string | number];
  readonly status: QuantityStatus;
  /** A key of the profile's `sources`. */
  readonly source: string;
  /** Table, section, figure or page in the source. */
  readonly where?: string;
  readonly note?: string;
}

/** A figure converted to SI (joules, seconds, watts, bytes, or a plain count), with its provenance. */
export interface Quantity {
  readonly si: number;
  readonly range?: readonly [number, number];
  readonly text: string;
  readonly dimension: Dimension;
  readonly status: QuantityStatus;
  readonly source: string;
  readonly where?: string;
  readonly note?: string;
}

const BASE_OF: Record<Exclude<Dimension, 'count'>, string> = { energy: '1 J', time: '1 s', power: '1 W', bytes: '1 B' };

/** Converts one value (`"23.6 pJ"` or a number) to SI; `path` names the field in errors. */
export function toSI(value: string | number, dimension: Dimension, path: string): number {
  if (dimension === 'count') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n) || n < 0) throw new SpecError(path, `must be a non-negative number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (typeof value === 'number') throw new SpecError(path, `needs a unit of ${dimension} (e.g. ${JSON.stringify(`${value} ${exampleUnit(dimension)}`)}), got the bare number ${value}`);
  let parsed;
  try {
    parsed = parseUnit(value);
  } catch (e) {
    throw new SpecError(path, `cannot read ${JSON.stringify(value)} as a quantity: ${(e as Error).message}`);
  }
  if (!parsed.equalBase(parseUnit(BASE_OF[dimension]))) {
    throw new SpecError(path, `${JSON.stringify(value)} is not a quantity of ${dimension} (expected a unit like ${exampleUnit(dimension)})`);
  }
  const si = parsed.toNumber(SI_UNIT[dimension]);
  if (!Number.isFinite(si) || si < 0) throw new SpecError(path, `must be finite and non-negative, got ${JSON.stringify(value)}`);
  return si;
}

function exampleUnit(dimension: Dimension): string {
  return { energy: 'pJ', time: 'ns', power: 'mW', bytes: 'KiB', count: '' }[dimension];
}

export function toQuantity(input: QuantityInput, dimension: Dimension, path: string): Quantity {
  const si = toSI(input.value, dimension, `${path}.value`);
  const range = input.range ? ([toSI(input.range[0], dimension, `${path}.range[0]`), toSI(input.range[1], dimension, `${path}.range[1]`)] as const) : undefined;
  if (range && !(range[0] <= si && si <= range[1])) throw new SpecError(`${path}.range`, `the value ${input.value} lies outside its range [${input.range![0]}, ${input.range![1]}]`);
  return {
    si,
    ...(range ? { range } : {}),
    text: String(input.value),
    dimension,
    status: input.status,
    source: input.source,
    ...(input.where !== undefined ? { where: input.where } : {}),
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
}
