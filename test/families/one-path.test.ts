/**
 * One path from a spec's `run` section to simulate(): the attack classifier, the hardware estimate and a
 * direct simulate() with relaxationSettings(run) relax the same model on the same examples under the same
 * stop condition. The spec converges on its energy, which the attack loader used to drop (it kept only
 * the state tolerance), so a disagreement here is exactly the bug this path removes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRng } from '../../src/base/rng.js';
import { relaxationSettings } from '../../src/core/run-settings.js';
import { simulate } from '../../src/core/simulate.js';
import { loadDataset, subset, toTensors } from '../../src/data/index.js';
import { classifierFor } from '../../src/attacks/models/index.js';
import { hardwareAdapters } from '../../src/hardware/adapter.js';
import { systems } from '../../src/families/index.js';
import type { EquilibriumPropSystem } from '../../src/families/equilibrium-prop/system.js';
import type { ModelSource } from '../../src/runs/model-source.js';
import { useBackend } from '../../src/tensor/index.js';

const data = loadDataset('mnist-embedded');
const count = 8;
const spec = {
  system: { kind: 'equilibrium-prop', layers: [40, 30, 10], output: 'mse', activation: 'hard-sigmoid', init: 'glorot-uniform', dynamics: 'primitive-map', stepSize: 0.5 },
  run: { maxSteps: 60, converge: { tolerance: 0.05, on: 'energy' as const, minSteps: 1 } },
};

describe('one path from run settings to simulate()', () => {
  let system: EquilibriumPropSystem;
  let params: Record<string, tf.Tensor>;
  beforeAll(async () => {
    await useBackend('wasm');
    const { kind: _kind, ...options } = spec.system;
    system = systems.get('equilibrium-prop').create(systems.get('equilibrium-prop').options.parse(options), { inputSize: 784 }) as EquilibriumPropSystem;
    params = system.initParams(makeRng(5)) as unknown as Record<string, tf.Tensor>;
  });
  afterAll(() => tf.dispose(Object.values(params)));

  const source = (trained: Record<string, tf.Tensor>): ModelSource => ({
    origin: 'test spec',
    system: spec.system,
    run: spec.run,
    data,
    trained: { params: trained, trainedBy: 'test' },
  });

  it('the classifier, the hardware estimate and simulate() stop at the same step with the same readout', () => {
    const settings = relaxationSettings(spec.run);
    const { x } = toTensors(subset(data.test, 0, count), { layout: 'flat' });
    const input = tf.tidy(() => system.prepare({ x } as never, params as never));
    const direct = simulate({ system, params: params as never, input, ...settings });
    expect(direct.stopped).toBe('converged');
    expect(direct.steps).toBeGreaterThan(1);
    expect(direct.steps).toBeLessThan(spec.run.maxSteps);
    const directReadout = tf.tidy(() => system.readout!(direct.state, input, params as never)).arraySync() as number[][];

    const classifier = classifierFor(source(Object.fromEntries(Object.entries(params).map(([k, t]) => [k, t.clone()]))));
    const run = classifier.run(x);
    expect(run.steps).toBe(direct.steps);
    expect(run.stopped).toBe('converged');
    const logits = run.logits.arraySync();
    logits.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(directReadout[i]![j]!, 5)));
    run.dispose();
    classifier.dispose();

    const trained = hardwareAdapters.get('equilibrium-prop').build({ source: source(params), rng: makeRng(1), count });
    const measured = trained.measure();
    expect(measured.activity.stepsPerInference).toBe(direct.steps);
    trained.dispose();

    direct.dispose();
    tf.dispose([x, ...Object.values(input).filter((t) => t !== x)]);
  }, 60000);
});
