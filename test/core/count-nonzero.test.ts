import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { countNonzero } from '../../src/core/count-nonzero.js';
import { makeRng, normalArray } from '../../src/base/rng.js';
import { simulate } from '../../src/core/simulate.js';
import { equilibriumProp, withInputDrive } from '../../src/families/equilibrium-prop/system.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('countNonzero', () => {
  it('equals the comparison count Σ [t ≠ 0] on signed values, tiny values and exact zeros', () => {
    const before = tf.memory().numTensors;
    const values = normalArray(makeRng(3), 5000).map((v, i) => (i % 3 === 0 ? 0 : i % 7 === 0 ? v * 1e-30 : i % 11 === 0 ? -0 : v));
    const t = tf.tensor2d(values, [50, 100]);
    const expected = values.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    const count = countNonzero(t);
    expect(count.dataSync()[0]).toBe(expected);
    const reference = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(t, 0), 'float32')));
    expect(reference.dataSync()[0]).toBe(expected);
    // On t ≥ 0 the abs can be skipped.
    const rates = tf.relu(t);
    const nonnegative = countNonzero(rates, { nonnegative: true });
    expect(nonnegative.dataSync()[0]).toBe(values.reduce((n, v) => n + (v > 0 ? 1 : 0), 0));
    tf.dispose([t, count, reference, rates, nonnegative]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("EP's counts (input counted once per relaxation) equal a recount of every step's tensors", () => {
    const system = equilibriumProp({ sizes: [30, 12, 8, 4], output: 'mse' });
    const params = system.initParams(makeRng(2));
    const x = tf.tensor2d(normalArray(makeRng(4), 5 * 30).map((v) => Math.max(0, v)), [5, 30]);
    const input = tf.tidy(() => withInputDrive({ x }, params));
    const solution = simulate({ system, params, input, maxSteps: 6, countEvents: true });
    const inputActive = Array.from(x.dataSync()).reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    // Layer 1's effective MACs per step: (active inputs + active layer-2 units of the previous step) × 12.
    const perStep = solution.events!.perStep;
    for (let s = 1; s < perStep.length; s++) {
      expect(perStep[s]!.layer1!.effective_macs).toBe((inputActive + perStep[s - 1]!.layer2!.events!) * 12);
    }
    expect(perStep[0]!.layer1!.effective_macs).toBe(inputActive * 12);
    solution.dispose();
    tf.dispose([x, input.drive!, ...Object.values(params)]);
  });
});
