import { describe, expect, it } from 'vitest';
import { mcnemarExact, pairedComparison, pairedGainInterval, wilsonInterval } from '../../src/base/statistics.js';

/** The exact two-sided tail in integer arithmetic: 2 · Σ_{i ≤ k} C(n, i) / 2ⁿ, an independent computation. */
function exactTail(b: number, c: number): number {
  const n = BigInt(b + c);
  const k = BigInt(Math.min(b, c));
  let term = 1n;
  let sum = 1n;
  for (let i = 1n; i <= k; i++) {
    term = (term * (n - i + 1n)) / i;
    sum += term;
  }
  // Scale before dividing so the ratio keeps 15 significant digits.
  const scale = 10n ** 40n;
  return Math.min(1, (2 * Number((sum * scale) / 2n ** n)) / 1e40);
}

describe('statistics for accuracies on the same images', () => {
  it('mcnemarExact on hand-computed cases', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(5, 0)).toBeCloseTo(2 / 32, 15);
    // n = 12, k = 2: (1 + 12 + 66) / 4096, doubled.
    expect(mcnemarExact(10, 2)).toBeCloseTo(158 / 4096, 15);
    expect(mcnemarExact(2, 10)).toBe(mcnemarExact(10, 2));
    expect(mcnemarExact(7, 7)).toBe(1);
  });

  it('mcnemarExact equals the integer-arithmetic tail for counts in the hundreds, far into the tail', () => {
    for (const [b, c] of [[60, 40], [150, 90], [600, 400], [35, 1], [1, 0]] as const) {
      const expected = exactTail(b, c);
      expect(Math.abs(mcnemarExact(b, c) - expected) / expected).toBeLessThan(1e-9);
    }
    expect(mcnemarExact(600, 400)).toBeLessThan(1e-9);
  });

  it('mcnemarExact refuses what is not a count', () => {
    expect(() => mcnemarExact(-1, 3)).toThrow(/non-negative integers/);
    expect(() => mcnemarExact(1.5, 3)).toThrow(/non-negative integers/);
  });

  it('pairedComparison counts the discordant images and agrees with the interval and test it is built from', () => {
    const a = [1, 1, 0, 0, 1, 0, 1, 0, 0, 0];
    const b = [1, 0, 1, 1, 1, 1, 1, 0, 1, 0];
    const r = pairedComparison(a, b);
    expect(r.accuracyA).toBeCloseTo(0.4, 12);
    expect(r.accuracyB).toBeCloseTo(0.7, 12);
    expect(r.onlyA).toBe(1);
    expect(r.onlyB).toBe(4);
    expect(r.difference).toBeCloseTo(0.3, 12);
    expect(r.interval).toEqual(pairedGainInterval(4, 1, 10));
    expect(r.p).toBeCloseTo(mcnemarExact(4, 1), 15);
    expect(() => pairedComparison([1], [1, 0])).toThrow(/same images/);
  });

  it('wilsonInterval brackets the rate and stays inside [0, 1]', () => {
    const [lo, hi] = wilsonInterval(0, 300);
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThan(0.01);
    expect(hi).toBeLessThan(0.014);
  });
});
