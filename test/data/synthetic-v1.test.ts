import { describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { gaborPair, syntheticV1, unitEnergy, type GaborUnit } from '../../src/data/synthetic-v1.js';
import { linspace, noisyImage } from '../../src/data/noise-grid.js';

/** A full-field grating 0.5 + 0.5 cos(k'·(x − c) + φ) on an h × w grid. */
function grating(h: number, w: number, frequency: number, theta: number, phase: number, cx: number, cy: number): Float32Array {
  const kx = 2 * Math.PI * frequency * Math.cos(theta);
  const ky = 2 * Math.PI * frequency * Math.sin(theta);
  return Float32Array.from({ length: h * w }, (_, p) => 0.5 + 0.5 * Math.cos(kx * ((p % w) - cx) + ky * (Math.floor(p / w) - cy) + phase));
}

/** Energy averaged over 4 equally spaced grating phases (the cross term of the two Fourier lobes, ∝ e^{2iφ}, cancels exactly). */
function phaseAveraged(pair: ReturnType<typeof gaborPair>, h: number, w: number, unit: GaborUnit, theta: number): number {
  let s = 0;
  for (let q = 0; q < 4; q++) s += unitEnergy(pair, grating(h, w, unit.frequency, theta, (q * Math.PI) / 2, unit.cx, unit.cy)) / 4;
  return s;
}

describe('synthetic V1 population (Gabor-energy units)', () => {
  it('orientation tuning follows the definition: E(θ′)/E(θ) = [Ĝ(k−k′)² + Ĝ(k+k′)²]/[Ĝ(0)² + Ĝ(2k)²]', () => {
    const size = 96;
    const unit: GaborUnit = { theta: 0.7, frequency: 0.1, sigma: 5, cx: 47.5, cy: 47.5, peak: 10, baseline: 1, c50: 1 };
    const pair = gaborPair(unit, size, size);
    const a = (unit.sigma * 2 * Math.PI * unit.frequency) ** 2;
    const analytic = (d: number) => (Math.exp(-a * 2 * (1 - Math.cos(d))) + Math.exp(-a * 2 * (1 + Math.cos(d)))) / (1 + Math.exp(-4 * a));
    const atPreferred = phaseAveraged(pair, size, size, unit, unit.theta);
    for (const deg of [5, 10, 20, 30, -15]) {
      const d = (deg * Math.PI) / 180;
      const ratio = phaseAveraged(pair, size, size, unit, unit.theta + d) / atPreferred;
      expect(Math.abs(ratio - analytic(d)) / analytic(d)).toBeLessThan(0.03);
    }
    // Phase invariance of the energy (the complex-cell property) at the preferred orientation.
    const byPhase = [0, 1, 2, 3].map((q) => unitEnergy(pair, grating(size, size, unit.frequency, unit.theta, (q * Math.PI) / 2, unit.cx, unit.cy)));
    expect((Math.max(...byPhase) - Math.min(...byPhase)) / atPreferred).toBeLessThan(0.02);
  });

  it("every unit of a 28×28 population prefers its own θ (within one step of a 24-orientation grid) and is orientation selective", () => {
    const pop = syntheticV1({ units: 12 }, 28, 28, makeRng(1));
    pop.units.forEach((unit) => {
      const pair = gaborPair(unit, 28, 28);
      const thetas = Array.from({ length: 24 }, (_, i) => (i * Math.PI) / 24);
      const e = thetas.map((t) => phaseAveraged(pair, 28, 28, unit, t));
      const best = thetas[e.indexOf(Math.max(...e))]!;
      const diff = Math.abs(((best - unit.theta + Math.PI / 2 + 10 * Math.PI) % Math.PI) - Math.PI / 2);
      expect(diff).toBeLessThanOrEqual(Math.PI / 24 + 1e-9);
      // Orientation selectivity index |Σ E e^{2iθ}| / Σ E.
      const re = e.reduce((s, v, i) => s + v * Math.cos(2 * thetas[i]!), 0);
      const im = e.reduce((s, v, i) => s + v * Math.sin(2 * thetas[i]!), 0);
      expect(Math.hypot(re, im) / e.reduce((s, v) => s + v, 0)).toBeGreaterThan(0.3);
    });
  }, 60_000);

  it('repeats are Poisson around the rate (mean and Fano factor 1), deterministic from the seed', () => {
    const image = grating(28, 28, 0.12, 0.3, 0.4, 13.5, 13.5);
    const pop = syntheticV1({ units: 6 }, 28, 28, makeRng(2));
    const repeats = 3000;
    const r = pop.responses(image, 1, repeats, makeRng(3));
    const rates = pop.rates(image);
    for (let a = 0; a < 6; a++) {
      let m = 0;
      for (let t = 0; t < repeats; t++) m += r[t * 6 + a]! / repeats;
      let v = 0;
      for (let t = 0; t < repeats; t++) v += (r[t * 6 + a]! - m) ** 2 / (repeats - 1);
      expect(Math.abs(m - rates[a]!)).toBeLessThan(4 * Math.sqrt(rates[a]! / repeats) + 1e-9);
      expect(v / m).toBeGreaterThan(0.85);
      expect(v / m).toBeLessThan(1.15);
    }
    expect(Array.from(pop.responses(image, 1, 5, makeRng(3)))).toEqual(Array.from(r.subarray(0, 30)));
    expect(Array.from(syntheticV1({ units: 6 }, 28, 28, makeRng(2)).rates(image))).toEqual(Array.from(rates));
    expect(Array.from(syntheticV1({ units: 6 }, 28, 28, makeRng(4)).rates(image))).not.toEqual(Array.from(rates));
  });

  it('bad options are SpecErrors naming the option', () => {
    expect(() => syntheticV1({ units: 0 }, 28, 28, makeRng(1))).toThrow(/units/);
    expect(() => syntheticV1({ units: 3, frequencies: [0.1, 0.6] }, 28, 28, makeRng(1))).toThrow(/Nyquist/);
  });
});

describe('noise grid', () => {
  it('10 levels in [0, 0.5]; results stay in each image’s own range; level 0 is the image; salt-and-pepper hits about ε of the pixels', () => {
    expect(linspace(0.5, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => expect.closeTo((0.5 * i) / 9, 12)));
    const image = Float32Array.from({ length: 784 }, (_, p) => 0.2 + 0.5 * ((p * 37) % 100) / 100);
    const [lo, hi] = [Math.min(...image), Math.max(...image)];
    for (const kind of ['gaussian', 'uniform', 'salt-and-pepper'] as const) {
      expect(Array.from(noisyImage(image, kind, 0, makeRng(1)))).toEqual(Array.from(image));
      const noisy = noisyImage(image, kind, 0.4, makeRng(1));
      expect(Math.min(...noisy)).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...noisy)).toBeLessThanOrEqual(hi);
      expect(noisy.some((v, i) => v !== image[i])).toBe(true);
    }
    const sp = noisyImage(image, 'salt-and-pepper', 0.3, makeRng(2));
    const hit = sp.filter((v, i) => v !== image[i]).length / 784;
    expect(hit).toBeGreaterThan(0.2);
    expect(hit).toBeLessThan(0.35);
  });
});
