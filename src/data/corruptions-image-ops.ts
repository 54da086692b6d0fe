/**
 * Image operations the corruptions are built from, on single-channel images stored row-major in a
 * Float32Array with values in [0, 1]. Each follows the library function MNIST-C / ImageNet-C call, as far
 * as stated here:
 *
 * - `gaussianBlur`: skimage.filters.gaussian: a separable Gaussian of standard deviation σ truncated at 4σ,
 *   the border extended with the nearest pixel ('nearest') unless `border` = 'zero'.
 * - `warpInverse`: skimage.transform.warp with an inverse map: output pixel (col c, row r) takes the input
 *   at (a₁c + a₂r + a₃, b₁c + b₂r + b₃), bilinearly interpolated, 0 outside the image (order=1, constant 0).
 * - `poisson`: exact Poisson draws: Knuth's product of uniforms for λ < 10, Hörmann's PTRS transformed
 *   rejection (W. Hörmann, "The transformed rejection method for generating Poisson random variables",
 *   Insurance: Mathematics and Economics 12, 1993; also NumPy's method) for λ ≥ 10.
 * - `lineFromPoints`: MNIST-C's line: intensity log(1 − d/2.3) + 1 at vertical distance d from the line
 *   through (c₀, r₀), (c₁, r₁), clipped to [0, 1], zero outside columns [⌊c₀⌋, ⌈c₁⌉).
 * - `plasmaFractal`: the diamond-square height map ImageNet-C's fog uses (mapsize 256, wibble 100 divided
 *   by `decay` per level), normalised to [0, 1].
 * - `canny`: Canny (1986) edges as skimage.feature.canny with its defaults: Gaussian σ = 1, Sobel
 *   gradients, non-maximum suppression, hysteresis between 0.1 and 0.2 of the gradient magnitude's unit
 *   (skimage's float defaults). Non-maximum suppression here compares along the gradient direction
 *   quantised to 0°, 45°, 90°, 135° (skimage interpolates), so edge pixels can differ at corners.
 *
 * Every random number comes from the seeded Rng passed in.
 */
import type { Rng } from '../base/rng.js';

export interface Image {
  readonly data: Float32Array;
  readonly height: number;
  readonly width: number;
}

export function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.floor(4 * sigma + 0.5));
  const k = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) total += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= total;
  return k;
}

export function gaussianBlur(image: Image, sigma: number, border: 'nearest' | 'zero' = 'nearest'): Float32Array {
  const { data, height: h, width: w } = image;
  if (sigma <= 0) return Float32Array.from(data);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  // One 1-D pass along rows (step 1) or columns (step w); the 2-D Gaussian is separable.
  const pass = (source: ArrayLike<number>, along: 'rows' | 'columns'): Float64Array => {
    const out = new Float64Array(h * w);
    const length = along === 'rows' ? w : h;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const position = along === 'rows' ? x : y;
        let s = 0;
        for (let j = -r; j <= r; j++) {
          let p = position + j;
          if (border === 'nearest') p = Math.min(length - 1, Math.max(0, p));
          else if (p < 0 || p >= length) continue;
          s += k[j + r]! * source[along === 'rows' ? y * w + p : p * w + x]!;
        }
        out[y * w + x] = s;
      }
    }
    return out;
  };
  return Float32Array.from(pass(pass(data, 'rows'), 'columns'));
}

/** Inverse affine map [[a1, a2, a3], [b1, b2, b3]] from output (col, row) to input (col, row). */
export type InverseMap = readonly [readonly [number, number, number], readonly [number, number, number]];

export function warpInverse(image: Image, map: InverseMap): Float32Array {
  const { data, height: h, width: w } = image;
  const [[a1, a2, a3], [b1, b2, b3]] = map;
  const out = new Float32Array(h * w);
  const pixel = (c: number, r: number) => (c >= 0 && c < w && r >= 0 && r < h ? data[r * w + c]! : 0);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const x = a1 * c + a2 * r + a3;
      const y = b1 * c + b2 * r + b3;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      out[r * w + c] =
        (1 - fx) * (1 - fy) * pixel(x0, y0) + fx * (1 - fy) * pixel(x0 + 1, y0) + (1 - fx) * fy * pixel(x0, y0 + 1) + fx * fy * pixel(x0 + 1, y0 + 1);
    }
  }
  return out;
}

/**
 * The inverse map of skimage's AffineTransform(scale, rotation, shear) with the translation that keeps the
 * image centre ((w−1)/2, (h−1)/2) fixed, as MNIST-C builds it:
 * [[sx cos θ, −sy sin(θ + shear)], [sx sin θ, sy cos(θ + shear)]].
 */
export function centredAffine(options: { scale?: number; rotation?: number; shear?: number }, size: number): InverseMap {
  const s = options.scale ?? 1;
  const t = options.rotation ?? 0;
  const sh = options.shear ?? 0;
  const a1 = s * Math.cos(t);
  const a2 = -s * Math.sin(t + sh);
  const b1 = s * Math.sin(t);
  const b2 = s * Math.cos(t + sh);
  const c = (size - 1) / 2;
  return [
    [a1, a2, c * (1 - a1 - a2)],
    [b1, b2, c * (1 - b1 - b2)],
  ];
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13). */
export function logGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xx = x - 1;
  let a = g[0]!;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

export function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng.uniform();
    while (p > limit) {
      k++;
      p *= rng.uniform();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.uniform() - 0.5;
    const v = rng.uniform();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logGamma(k + 1)) return k;
  }
}

export function lineFromPoints(c0: number, r0: number, c1: number, r1: number, size = 28): Float32Array {
  const out = new Float32Array(size * size);
  if (c1 === c0) return out;
  const m = (r1 - r0) / (c1 - c0);
  const left = Math.floor(c0);
  const right = Math.ceil(c1);
  for (let r = 0; r < size; r++) {
    for (let c = Math.max(0, left); c < Math.min(size, right); c++) {
      const d = Math.min(Math.abs(r - (m * (c - c0) + r0)), 2.3 - 1e-10);
      out[r * size + c] = clip01(Math.log(1 - d / 2.3) + 1);
    }
  }
  return out;
}

export function plasmaFractal(rng: Rng, decay: number, mapsize = 256): Float64Array {
  const map = new Float64Array(mapsize * mapsize);
  const at = (r: number, c: number) => ((r % mapsize) + mapsize) % mapsize * mapsize + (((c % mapsize) + mapsize) % mapsize);
  let step = mapsize;
  let wibble = 100;
  const wibbled = (sum: number) => sum / 4 + wibble * (-wibble + 2 * wibble * rng.uniform());
  while (step >= 2) {
    const half = step / 2;
    // Squares: the centre of each square of corners `step` apart.
    for (let r = 0; r < mapsize; r += step) {
      for (let c = 0; c < mapsize; c += step) {
        map[at(r + half, c + half)] = wibbled(map[at(r, c)]! + map[at(r + step, c)]! + map[at(r, c + step)]! + map[at(r + step, c + step)]!);
      }
    }
    // Diamonds: the edge midpoints, from the two corners and the two neighbouring centres.
    for (let r = 0; r < mapsize; r += step) {
      for (let c = 0; c < mapsize; c += step) {
        map[at(r, c + half)] = wibbled(map[at(r, c)]! + map[at(r, c + step)]! + map[at(r + half, c + half)]! + map[at(r - half, c + half)]!);
        map[at(r + half, c)] = wibbled(map[at(r, c)]! + map[at(r + step, c)]! + map[at(r + half, c + half)]! + map[at(r + half, c - half)]!);
      }
    }
    step = half;
    wibble /= decay;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < map.length; i++) map[i] = (map[i]! - lo) / (hi - lo);
  return map;
}

export function canny(image: Image, sigma = 1, low = 0.1, high = 0.2): Float32Array {
  const { height: h, width: w } = image;
  const smooth = gaussianBlur(image, sigma, 'zero');
  const gx = new Float64Array(h * w);
  const gy = new Float64Array(h * w);
  const mag = new Float64Array(h * w);
  const px = (r: number, c: number) => (r >= 0 && r < h && c >= 0 && c < w ? smooth[r * w + c]! : 0);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const sx = px(r - 1, c + 1) + 2 * px(r, c + 1) + px(r + 1, c + 1) - px(r - 1, c - 1) - 2 * px(r, c - 1) - px(r + 1, c - 1);
      const sy = px(r + 1, c - 1) + 2 * px(r + 1, c) + px(r + 1, c + 1) - px(r - 1, c - 1) - 2 * px(r - 1, c) - px(r - 1, c + 1);
      gx[r * w + c] = sx;
      gy[r * w + c] = sy;
      mag[r * w + c] = Math.hypot(sx, sy);
    }
  }
  const m = (r: number, c: number) => (r >= 0 && r < h && c >= 0 && c < w ? mag[r * w + c]! : 0);
  const strong = new Uint8Array(h * w);
  const weak = new Uint8Array(h * w);
  // The image border is not an edge (skimage masks it too).
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      const i = r * w + c;
      const v = mag[i]!;
      if (v === 0) continue;
      const angle = ((Math.atan2(gy[i]!, gx[i]!) * 180) / Math.PI + 180) % 180;
      const [dr, dc] = angle < 22.5 || angle >= 157.5 ? [0, 1] : angle < 67.5 ? [1, 1] : angle < 112.5 ? [1, 0] : [1, -1];
      if (v < m(r + dr, c + dc) || v < m(r - dr, c - dc)) continue;
      if (v >= high) strong[i] = 1;
      else if (v >= low) weak[i] = 1;
    }
  }
  // Hysteresis: weak pixels connected (8-neighbourhood) to a strong one are edges.
  const edge = Uint8Array.from(strong);
  const stack: number[] = [];
  strong.forEach((s, i) => s && stack.push(i));
  while (stack.length) {
    const i = stack.pop()!;
    const r = Math.floor(i / w);
    const c = i % w;
    for (let dr = -1; dr <= 1; dr++) {
      for (let dc = -1; dc <= 1; dc++) {
        const rr = r + dr;
        const cc = c + dc;
        if (rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
        const j = rr * w + cc;
        if (weak[j] && !edge[j]) {
          edge[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return Float32Array.from(edge);
}
