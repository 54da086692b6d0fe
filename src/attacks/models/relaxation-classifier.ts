/**
 * The shared adapter from a dynamical system to a DynamicsClassifier: x → the system's input → relax with
 * simulate() using the model's own integrator, dt, steps and tolerance → logits from the readout. Family
 * adapters (one file each in this folder) supply only how x enters the system and how the readout becomes
 * class scores.
 *
 * The fixed-point residual is ‖F(s) − s‖ / ‖s‖ per example, with F one step of the integrator (for a
 * continuous system, dt · the vector field), taken over all state variables together.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RelaxationSettings } from '../../core/run-settings.js';
import { euler } from '../../core/integrators/euler.js';
import { map } from '../../core/integrators/map.js';
import type { Probe } from '../../core/probes.js';
import type { Rng } from '../../base/rng.js';
import { throwIfDiverged } from '../../core/solution.js';
import { simulate } from '../../core/simulate.js';
import type { DynamicalSystem } from '../../core/system.js';
import { leaves, tensorsOf, tidyTree, type TensorTree } from '../../core/tree.js';
import { withTapePaused } from '../../tensor/engine.js';
import type { ClassifierRun, ClassifierRunRequest, DynamicsClassifier, Relaxation } from '../classifier.js';

export interface RelaxationClassifierOptions<S extends TensorTree, P extends TensorTree, U extends TensorTree> {
  readonly name: string;
  readonly family: string;
  readonly system: DynamicalSystem<S, P, U>;
  readonly params: P;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  readonly bounds?: readonly [number, number];
  /**
   * The model's own relaxation: its run section through relaxationSettings (the gradient mode there is
   * ignored: a request names its own), or just the steps (dt 1, checks every step, the system's default
   * integrator).
   */
  readonly relaxation: Pick<RelaxationSettings, 'maxSteps'> & Partial<Omit<RelaxationSettings, 'gradient'>>;
  /** The system's input for a batch x (differentiable in x). */
  readonly toInput: (x: tf.Tensor, rng?: Rng) => U;
  /** Class scores [batch, classes] from the system's readout [batch, ...]. */
  readonly logitsOf: (readout: tf.Tensor) => tf.Tensor2D;
  readonly stochastic?: boolean;
  /** Tensors the classifier owns besides nothing else (freed by `dispose`). */
  readonly owned?: readonly tf.Tensor[];
}

export function relaxationClassifier<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  options: RelaxationClassifierOptions<S, P, U>,
): DynamicsClassifier {
  const { system, params } = options;
  if (!system.readout) throw new Error(`${system.kind} has no readout; a classifier needs one`);
  const settings = options.relaxation;
  const integrator = settings.integrator ?? (system.time === 'discrete' ? map : euler);
  const dt = settings.dt ?? 1;
  const own: Relaxation = { maxSteps: settings.maxSteps, ...(settings.converge ? { converge: settings.converge } : {}) };
  const [h, w, c] = options.imageShape;
  const classifier: DynamicsClassifier = {
    name: options.name,
    family: options.family,
    classes: options.classes,
    inputShape: [h * w * c],
    imageShape: options.imageShape,
    bounds: options.bounds ?? [0, 1],
    relaxation: own,
    stochastic: options.stochastic ?? false,
    hasEnergy: system.energy !== undefined,
    run(x: tf.Tensor, request: ClassifierRunRequest = {}): ClassifierRun {
      const relaxation = request.relaxation ?? own;
      const input = tidyTree(() => options.toInput(x, request.rng));
      // The classifier's own records under names no requested probe can take.
      const probes: Probe[] = (request.probes ?? []).map((p) => ({ ...p, name: `probe:${p.name ?? p.variable}`, differentiable: false }));
      if (request.stepLogits) probes.push({ name: 'readout', variable: 'readout', differentiable: true });
      if (request.energy && system.energy) probes.push({ name: 'energy', variable: 'energy' });
      const solution = throwIfDiverged(
        simulate({
          system,
          params,
          input,
          integrator,
          dt,
          maxSteps: relaxation.maxSteps,
          ...(relaxation.converge ? { converge: relaxation.converge } : {}),
          checkEvery: settings.checkEvery ?? 1,
          gradient: request.gradient ?? { kind: 'none' },
          probes,
        }),
      );
      // A copy: the readout may be a state variable itself (EP's output layer), which the solution owns.
      const logits = tf.tidy(() => tf.clone(options.logitsOf(system.readout!(solution.state, input, params)))) as tf.Tensor2D;
      let stepLogits: ClassifierRun['stepLogits'];
      const readoutTrace = solution.traces.readout;
      if (readoutTrace) {
        const records = readoutTrace.steps.length;
        const values = tf.tidy(() => {
          const flat = tf.reshape(readoutTrace.values, [records * x.shape[0]!, ...readoutTrace.values.shape.slice(2)]);
          return tf.reshape(options.logitsOf(flat), [records, x.shape[0]!, options.classes]);
        }) as tf.Tensor3D;
        stepLogits = { values, steps: readoutTrace.steps };
      }
      const energyTrace = solution.traces.energy;
      const energy = energyTrace ? { values: energyTrace.values.clone() as tf.Tensor2D, steps: energyTrace.steps } : undefined;
      const traces = request.probes
        ? Object.fromEntries(request.probes.map((p) => {
            const t = solution.traces[`probe:${p.name ?? p.variable}`]!;
            return [p.name ?? p.variable, { values: t.values.clone(), steps: t.steps }];
          }))
        : undefined;
      let residual: Float32Array | undefined;
      if (request.residual) {
        const r = withTapePaused(() =>
          tf.tidy(() => {
            const next = integrator.step(system, solution.t, dt, solution.state, input, params, solution.steps);
            const now = leaves(solution.state);
            const after = tensorsOf(next);
            const perExample = (ts: tf.Tensor[]) => tf.addN(ts.map((t) => tf.sum(tf.reshape(tf.square(t), [t.shape[0]!, -1]), 1)));
            const change = perExample(after.map((t, i) => tf.sub(t, now[i]!.tensor)));
            return tf.div(tf.sqrt(change), tf.maximum(tf.sqrt(perExample(now.map((l) => l.tensor))), 1e-12));
          }),
        );
        residual = r.dataSync() as Float32Array;
        r.dispose();
      }
      const { steps, stopped } = solution;
      solution.dispose();
      const inputTensors = tensorsOf(input).filter((t) => t !== x);
      return {
        logits,
        ...(stepLogits ? { stepLogits } : {}),
        ...(energy ? { energy } : {}),
        ...(residual ? { residual } : {}),
        ...(traces ? { traces } : {}),
        steps,
        stopped,
        dispose: () => tf.dispose([logits, ...(stepLogits ? [stepLogits.values] : []), ...(energy ? [energy.values] : []), ...Object.values(traces ?? {}).map((t) => t.values), ...inputTensors]),
      };
    },
    dispose() {
      tf.dispose([...tensorsOf(params), ...(options.owned ?? [])]);
    },
  };
  return Object.freeze(classifier);
}
