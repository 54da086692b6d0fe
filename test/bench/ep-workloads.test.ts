/**
 * The EP bench workloads run the systems' own steps; these check that those steps are the computations
 * WORKLOADS.md (and torch_reference.py) define: ep_fc against the plain two-line definition, ep_conv
 * against ρ(∂Φ/∂s) with Φ the workload's own, differentiated by autodiff.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../bench/rng.js';
import { epConvNetFromTorchLayout, epConvParams, epConvPhi } from '../../bench/workloads/ep_conv.js';
import { disposeNet, epFcStep, makeEpFcNet } from '../../bench/workloads/ep_shared.js';
import { equilibriumPropConv } from '../../src/families/equilibrium-prop/system-conv.js';
import { equilibriumProp } from '../../src/families/equilibrium-prop/system.js';
import { useBackend } from '../../src/tensor/index.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('EP bench workloads run the defined step', () => {
  it('ep_fc: the equilibrium-prop step is h ← ρ(x W1 + y W2ᵀ + b1); y ← ρ(h W2 + b2)', () => {
    const rng = makeRng(0);
    const net = makeEpFcNet(rng);
    const system = equilibriumProp({ sizes: [784, 500, 10] });
    const h = rng.uniform([64, 500]);
    const y = rng.uniform([64, 10]);
    const [hRef, yRef] = tf.tidy(() => epFcStep(net, net.x, h, y));
    const ours = system.step({ layers: [h as tf.Tensor2D, y as tf.Tensor2D] }, { x: net.x }, { W1: net.W1, b1: net.b1, W2: net.W2, b2: net.b2 }, 0);
    expect(maxDiff(ours.layers[0]!, hRef!)).toBeLessThan(1e-5);
    expect(maxDiff(ours.layers[1]!, yRef!)).toBeLessThan(1e-5);
    tf.dispose([h, y, hRef!, yRef!, ...ours.layers]);
    disposeNet(net);
  });

  it('ep_conv: the equilibrium-prop-conv step is ρ(∂Φ/∂s) of the workload Φ (PyTorch layout), also where pooling windows tie', () => {
    const rng = makeRng(1);
    const raw = [rng.uniform([4, 1, 28, 28]), rng.normal([32, 1, 5, 5], 0.1), rng.normal([64, 32, 5, 5], 0.05), rng.normal([10, 64 * 4 * 4], 0.05)];
    const net = epConvNetFromTorchLayout(raw[0]!, raw[1]!, raw[2]!, raw[3]!);
    const params = epConvParams(net);
    const system = equilibriumPropConv({ inputSize: 28 });
    // s1 half zeros: saturated units make whole pooling windows equal.
    const s = [tf.relu(tf.sub(rng.uniform([4, 12, 12, 32]), 0.5)), rng.uniform([4, 4, 4, 64]), rng.uniform([4, 10])];
    const reference = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => epConvPhi(net, a, b, c))(s).map((g) => tf.clipByValue(g, 0, 1)));
    const ours = system.step({ layers: s }, { x: net.x }, params, 0);
    ours.layers.forEach((l, i) => expect(maxDiff(l, reference[i]!)).toBeLessThan(1e-4));
    tf.dispose([...raw, net.x, ...Object.values(params), ...s, ...reference, ...ours.layers]);
  });
});
