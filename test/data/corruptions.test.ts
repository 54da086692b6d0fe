/** Corruptions on hand-computed cases, their statistics, and determinism per seed. */
import { describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { CORRUPTIONS, corruptDataset, getCorruption, selectCorruptions } from '../../src/data/corruptions.js';
import { canny, gaussianBlur, poisson, warpInverse } from '../../src/data/corruptions-image-ops.js';
import { loadDataset, subset } from '../../src/data/index.js';

const S = 28;
const image = (f: (r: number, c: number) => number) => ({ data: Float32Array.from({ length: S * S }, (_, i) => f(Math.floor(i / S), i % S)), height: S, width: S });
const constant = (v: number) => image(() => v);
const stats = (a: ArrayLike<number>) => {
  const n = a.length;
  const mean = Array.from(a).reduce((s, v) => s + v, 0) / n;
  return { mean, variance: Array.from(a).reduce((s, v) => s + (v - mean) ** 2, 0) / n };
};

describe('corruptions by hand', () => {
  it('stripe inverts columns 0–6 and 21–27; brightness adds 0.5 and clips', () => {
    const out = getCorruption('mnist-c/stripe').apply(constant(0.2), 1, makeRng(0));
    for (let c = 0; c < S; c++) expect(out[5 * S + c]).toBeCloseTo(c < 7 || c >= 21 ? 0.8 : 0.2, 6);
    const bright = getCorruption('mnist-c/brightness').apply(image((_, c) => (c < 14 ? 0.2 : 0.7)), 1, makeRng(0));
    expect(bright[0]).toBeCloseTo(0.7, 6);
    expect(bright[20]).toBe(1);
  });

  it('contrast scales the distance from the image mean', () => {
    const half = image((_, c) => (c < 14 ? 0 : 1));
    const out = getCorruption('cifar-10-c/contrast').apply(half, 2, makeRng(0));
    expect(out[0]).toBeCloseTo(0.25, 6);
    expect(out[20]).toBeCloseTo(0.75, 6);
  });

  it('translate moves a pixel by ±3 in each direction; the identity warp changes nothing', () => {
    const dot = image((r, c) => (r === 10 && c === 12 ? 1 : 0));
    const out = getCorruption('mnist-c/translate').apply(dot, 1, makeRng(3));
    const lit = Array.from(out).map((v, i) => [v, i] as const).filter(([v]) => v > 0);
    expect(lit).toHaveLength(1);
    const [, i] = lit[0]!;
    expect([7, 13]).toContain(Math.floor(i / S));
    expect([9, 15]).toContain(i % S);
    expect(Array.from(warpInverse(dot, [[1, 0, 0], [0, 1, 0]]))).toEqual(Array.from(dot.data));
  });

  it('scale by the inverse map 1/0.7 shrinks the image about its centre: a constant image keeps its middle and loses its border', () => {
    const out = getCorruption('mnist-c/scale').apply(constant(1), 1, makeRng(0));
    expect(out[14 * S + 14]).toBeCloseTo(1, 6);
    expect(out[0]).toBe(0);
    // Input column 27 maps to 13.5 + (c − 13.5)/0.7 ≤ 27 ⇔ c ≤ 23.05: columns 24.. sample outside.
    expect(out[14 * S + 23]).toBeGreaterThan(0.9);
    expect(out[14 * S + 25]).toBe(0);
  });

  it('Gaussian blur of a point is the normalised kernel: sums to 1, centre 1/(Σ e^{−i²/2σ²})²', () => {
    const sigma = 1;
    const out = gaussianBlur(image((r, c) => (r === 14 && c === 14 ? 1 : 0)), sigma);
    let z = 0;
    for (let i = -4; i <= 4; i++) z += Math.exp(-(i * i) / 2);
    expect(out[14 * S + 14]).toBeCloseTo(1 / (z * z), 6);
    expect(Array.from(out).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });

  it('Canny finds the outline of a bright square and nothing inside or far from it', () => {
    const square = image((r, c) => (r >= 8 && r < 20 && c >= 8 && c < 20 ? 1 : 0));
    const edges = canny(square);
    expect(edges[14 * S + 14]).toBe(0);
    expect(edges[2 * S + 2]).toBe(0);
    const nearBoundary = (i: number) => {
      const r = Math.floor(i / S);
      const c = i % S;
      return Math.min(Math.abs(r - 7.5), Math.abs(r - 19.5), Math.abs(c - 7.5), Math.abs(c - 19.5)) <= 1.5;
    };
    const lit = Array.from(edges).map((v, i) => [v, i] as const).filter(([v]) => v === 1);
    expect(lit.length).toBeGreaterThan(30);
    for (const [, i] of lit) expect(nearBoundary(i)).toBe(true);
  });
});

describe('noise statistics', () => {
  it('Poisson draws have mean and variance λ, small and large λ (Knuth and PTRS)', () => {
    const rng = makeRng(1);
    for (const lambda of [3, 50, 400]) {
      const s = stats(Array.from({ length: 20000 }, () => poisson(rng, lambda)));
      expect(Math.abs(s.mean - lambda)).toBeLessThan(5 * Math.sqrt(lambda / 20000));
      expect(Math.abs(s.variance / lambda - 1)).toBeLessThan(0.05);
    }
  });

  it('Gaussian, shot and impulse noise have the parameters of their severities', () => {
    const img = constant(0.5);
    const many = (name: string, severity: number) => Array.from({ length: 20 }, (_, k) => Array.from(getCorruption(name).apply(img, severity, makeRng(k)))).flat();
    const gauss = stats(many('cifar-10-c/gaussian_noise', 5));
    expect(Math.sqrt(gauss.variance)).toBeCloseTo(0.1, 2);
    // Shot: Poisson(0.5·c)/c has variance 0.5/c; c = 100 at severity 3.
    const shot = stats(many('cifar-10-c/shot_noise', 3));
    expect(shot.mean).toBeCloseTo(0.5, 2);
    expect(shot.variance / (0.5 / 100)).toBeGreaterThan(0.9);
    expect(shot.variance / (0.5 / 100)).toBeLessThan(1.1);
    const impulse = many('mnist-c/impulse_noise', 1);
    const changed = impulse.filter((v) => v !== 0.5).length / impulse.length;
    expect(changed).toBeGreaterThan(0.17 - 0.01);
    expect(changed).toBeLessThan(0.17 + 0.01);
  });
});

describe('every corruption', () => {
  const { test } = loadDataset('mnist-embedded');
  const digits = subset(test, 0, 3);
  for (const corruption of CORRUPTIONS) {
    it(`${corruption.name}: stays in [0, 1], is deterministic per seed and per image`, () => {
      for (let s = 1; s <= corruption.severities; s++) {
        const a = corruptDataset(digits, corruption, s, makeRng(5));
        const b = corruptDataset(digits, corruption, s, makeRng(5));
        expect(Array.from(a.images)).toEqual(Array.from(b.images));
        expect(a.images.every((v) => v >= 0 && v <= 1)).toBe(true);
        // Image 0 does not depend on which other images are corrupted with it.
        const alone = corruptDataset(subset(digits, 0, 1), corruption, s, makeRng(5));
        expect(Array.from(alone.images)).toEqual(Array.from(a.images.subarray(0, S * S)));
      }
      const random = !['mnist-c/stripe', 'mnist-c/brightness', 'mnist-c/scale', 'mnist-c/canny_edges', 'cifar-10-c/gaussian_blur', 'cifar-10-c/contrast'].includes(corruption.name);
      if (random) {
        // Another seed gives another corruption (some only draw a sign per image, so try a few seeds).
        const a = Array.from(corruptDataset(digits, corruption, 1, makeRng(5)).images);
        const differs = [6, 7, 8, 9].some((seed) => Array.from(corruptDataset(digits, corruption, 1, makeRng(seed)).images).some((v, i) => v !== a[i]));
        expect(differs).toBe(true);
      }
    });
  }

  it('selects by suite and names the allowed ones for an unknown name', () => {
    expect(selectCorruptions(['mnist-c'])).toHaveLength(15);
    expect(selectCorruptions(['cifar-10-c', 'mnist-c/fog'])).toHaveLength(7);
    expect(() => selectCorruptions(['fog'])).toThrow(/unknown corruption "fog"; registered: "mnist-c\/shot_noise"/);
    expect(() => corruptDataset(digits, getCorruption('cifar-10-c/contrast'), 6, makeRng(0))).toThrow(/severities 1..5/);
  });
});
