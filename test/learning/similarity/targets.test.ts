import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../../src/base/rng.js';
import { DataError } from '../../../src/base/errors.js';
import { writeArray, writeHdf5 } from '../../../src/export/hdf5.js';
import { encodeNpy } from '../../../src/export/npy.js';
import { encodeNpz } from '../../../src/export/npz.js';
import { centredCosine } from '../../../src/learning/similarity/similarity.js';
import { loadResponseFile } from '../../../src/learning/similarity/targets/files.js';
import { responseArray, responseSimilarity, snrWeights, trialMeans } from '../../../src/learning/similarity/targets/responses.js';
import { useBackend } from '../../../src/tensor/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-similarity-'));
beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// 3 stimuli × 2 repeats × 2 units, index (i·repeats + t)·units + a.
const HAND = [1, 0, 3, 2, 2, 1, 2, 1, 6, 2, 4, 0];

describe('SNR weighting (Li et al. Eq. 1)', () => {
  it('matches a hand computation', () => {
    // Unit 0: trial means 2, 2, 5 → σ² = (1 + 1 + 4)/3 = 2; trial variances 1, 0, 1 → η² = 2/3; w = √3.
    // Unit 1: trial means 1, 1, 1 → σ = 0 → w = 0 (no stimulus information).
    const w = snrWeights(responseArray(HAND, [3, 2, 2], 'hand'));
    expect(w.signal[0]).toBeCloseTo(Math.sqrt(2), 12);
    expect(w.noise[0]).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(w.weights[0]).toBeCloseTo(Math.sqrt(3), 12);
    expect(w.weights[1]).toBe(0);
    // Weighted means: unit 0 ∝ (2, 2, 5), centred (−1, −1, 2); unit 1 weighs 0: S = sign products.
    const { matrix } = responseSimilarity(responseArray(HAND, [3, 2, 2], 'hand'));
    expect(Array.from(matrix)).toEqual([1, 1, -1, 1, 1, -1, -1, -1, 1].map((v) => expect.closeTo(v, 6)));
  });

  it('a noiseless unit with signal is an error naming the unit; a single repeat cannot be SNR-weighted', () => {
    expect(() => snrWeights(responseArray([1, 0, 1, 0, 2, 1, 2, 3], [2, 2, 2], 'x'))).toThrow(/unit 0 gives identical responses/);
    expect(() => snrWeights(responseArray([1, 2, 3, 4], [2, 2], 'x'))).toThrow(DataError);
    expect(() => responseArray([1, 2, 3], [2, 2], 'x')).toThrow(/3 values for shape/);
    expect(() => responseArray([1, Number.NaN, 3, 4], [2, 2], 'x')).toThrow(/must be finite/);
  });

  it('the JS target path equals the tensor centred cosine of the SNR-weighted trial means', () => {
    const rng = makeRng(2);
    const [n, t, u] = [9, 4, 6];
    const data = Float32Array.from({ length: n * t * u }, () => Math.round(5 * rng.uniform() * 4) / 4);
    const r = responseArray(data, [n, t, u], 'random');
    const { matrix, weights } = responseSimilarity(r);
    const means = trialMeans(r);
    const weighted = Float32Array.from(means, (v, k) => v * weights!.weights[k % u]!);
    const viaTensor = tf.tidy(() => centredCosine(tf.tensor2d(weighted, [n, u])).dataSync());
    for (let k = 0; k < n * n; k++) expect(matrix[k]).toBeCloseTo(viaTensor[k]!, 5);
  });
});

describe('response files', () => {
  const rng = makeRng(3);
  const [n, t, u] = [5, 3, 4];
  const data = Float32Array.from({ length: n * t * u }, () => Math.floor(8 * rng.uniform()));
  const expected = responseSimilarity(responseArray(data, [n, t, u], 'direct')).matrix;
  const images = Uint8Array.from({ length: n * 28 * 28 }, () => Math.floor(256 * rng.uniform()));

  it('.npy, .npz (with uint8 images), HDF5 (with images) and CSV (stimulus column, repeats) give the same target', async () => {
    const npy = path.join(dir, 'r.npy');
    fs.writeFileSync(npy, encodeNpy(data, [n, t, u]));
    const npz = path.join(dir, 'r.npz');
    fs.writeFileSync(npz, encodeNpz({ responses: { data, shape: [n, t, u] }, images: { data: images, shape: [n, 28, 28] } }));
    const h5 = path.join(dir, 'r.h5');
    await writeHdf5(h5, (root) => {
      writeArray(root, 'spikes', { data, shape: [n, t, u] });
      writeArray(root, 'images', { data: Float32Array.from(images, (v) => v / 255), shape: [n, 28, 28] });
    });
    const csv = path.join(dir, 'r.csv');
    const lines = ['stimulus,' + Array.from({ length: u }, (_, a) => `unit${a}`).join(',')];
    // Repeats interleaved across stimuli: grouping by the stimulus column must restore them.
    for (let r = 0; r < t; r++) for (let i = 0; i < n; i++) lines.push([i, ...Array.from(data.subarray((i * t + r) * u, (i * t + r + 1) * u))].join(','));
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    for (const [file, options] of [[npy, {}], [npz, {}], [h5, { responses: 'spikes' }], [csv, {}]] as const) {
      const loaded = await loadResponseFile(file, options);
      expect([loaded.responses.stimuli, loaded.responses.repeats, loaded.responses.units]).toEqual([n, t, u]);
      const got = responseSimilarity(loaded.responses).matrix;
      for (let k = 0; k < n * n; k++) expect(got[k]).toBeCloseTo(expected[k]!, 5);
      if (file === npz || file === h5) {
        expect(loaded.images!.count).toBe(n);
        expect(loaded.images!.images[7]).toBeCloseTo(images[7]! / 255, 6);
      }
    }
  });

  it('bad files give DataErrors that say what is wrong', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'stimulus,a\n0,1\n0,2\n1,3\n');
    await expect(loadResponseFile(bad)).rejects.toThrow(/stimulus 1 has 1 repeats, stimulus 0 has 2/);
    fs.writeFileSync(bad, '1,2\n3,x\n');
    await expect(loadResponseFile(bad)).rejects.toThrow(/line 2, field 2 is not a number/);
    const npz = path.join(dir, 'other.npz');
    fs.writeFileSync(npz, encodeNpz({ other: { data: new Float32Array(4), shape: [2, 2] } }));
    await expect(loadResponseFile(npz)).rejects.toThrow(/no member "responses"; members: other/);
    await expect(loadResponseFile(path.join(dir, 'r.txt'))).rejects.toThrow(/does not exist/);
    fs.writeFileSync(path.join(dir, 'r.mat'), 'x');
    await expect(loadResponseFile(path.join(dir, 'r.mat'))).rejects.toThrow(/allowed: .npy, .npz, .h5, .hdf5, .csv/);
  });
});
