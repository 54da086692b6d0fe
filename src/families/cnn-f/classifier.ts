/**
 * A trained CNN-F as a classifier for `neurodyn attack` and `neurodyn corrupt`, and for the robustness
 * evaluation of the training job.
 *
 * The scored output is always the defender's: the system's readout (the last pass's logits, or the mean of
 * every pass's, `system.readout`) after the model's cycles. Two attack surfaces:
 *
 * - `e2e`: the attacker differentiates that very output through the whole loop (the core's gradient mode,
 *   `unrolled` by default), so the attack is adaptive. The official evaluation attacked the last-cycle
 *   logits while scoring the average (new-families.md §0.3); here the gradient and the score are of the
 *   same function.
 * - `first`: the paper's "first" attack. The attacker's gradient is that of the first forward pass (the
 *   CNN without feedback), but the loss is evaluated at the scored output: logits = first + sg(scored −
 *   first), with sg a stop-gradient (computed with the tape paused). So value and success are judged on the
 *   defender's output while the direction comes from the feedforward pass: a transfer attack from the
 *   network's own first pass, weaker by construction.
 *
 * The model's cycles come from the saved model's meta (`cycles`); an attacker's relaxation override (the
 * `--attacker-steps` of `neurodyn attack`) changes how many cycles the *gradient* unrolls in `e2e` mode,
 * never what is scored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError, SpecError } from '../../base/errors.js';
import { withTapePaused } from '../../tensor/engine.js';
import type { ClassifierRun, ClassifierRunRequest, DynamicsClassifier } from '../../attacks/classifier.js';
import type { ClassifierAdapter, ModelSource } from '../../attacks/models/source.js';
import { isTapeRecording } from '../../core/simulate.js';
import { createCnnf, type CnnfSpecOptions } from './options.js';
import { runCycles } from './run-cycles.js';
import type { CnnfParams, CnnfSystem } from './system.js';

export type AttackSurface = 'first' | 'e2e';
export const ATTACK_SURFACES: readonly AttackSurface[] = ['first', 'e2e'];

export interface CnnfClassifierOptions {
  readonly system: CnnfSystem;
  /** Owned by the classifier (freed by dispose). */
  readonly params: CnnfParams;
  readonly cycles: number;
  readonly surface: AttackSurface;
  readonly name?: string;
}

export function cnnfClassifier(options: CnnfClassifierOptions): DynamicsClassifier {
  const { system, params, cycles, surface } = options;
  const [h, w, c] = system.options.inputShape;
  const scoredAt = (x: tf.Tensor, request: ClassifierRunRequest): { logits: tf.Tensor2D; stepLogits?: tf.Tensor3D; steps: number } => {
    const taping = isTapeRecording();
    if (surface === 'first' && taping && cycles > 0) {
      const scored = withTapePaused(() => runCycles(system, params, x, cycles).scores);
      const first = runCycles(system, params, x, 0).first;
      const gap = withTapePaused(() => tf.sub(scored, first));
      return { logits: tf.add(first, gap) as tf.Tensor2D, steps: cycles };
    }
    const attackerCycles = taping && request.relaxation ? request.relaxation.maxSteps : cycles;
    const gradient = request.gradient ?? { kind: 'none' as const };
    const run = runCycles(system, params, x, attackerCycles, { gradient, passes: request.stepLogits ?? false });
    if (attackerCycles === cycles) return { logits: run.scores, ...(run.passes ? { stepLogits: run.passes } : {}), steps: cycles };
    // The attacker unrolled other cycles for its gradient; the score stays the defender's.
    const scored = withTapePaused(() => runCycles(system, params, x, cycles).scores);
    const gap = withTapePaused(() => tf.sub(scored, run.scores));
    return { logits: tf.add(run.scores, gap) as tf.Tensor2D, ...(run.passes ? { stepLogits: run.passes } : {}), steps: cycles };
  };
  const classifier: DynamicsClassifier = {
    name: options.name ?? `cnn-f (${cycles} cycle${cycles === 1 ? '' : 's'}, ${system.options.readout} readout, attack surface ${surface})`,
    family: 'cnn-f',
    classes: system.classes,
    inputShape: [h * w * c],
    imageShape: [h, w, c],
    bounds: [0, 1],
    relaxation: { maxSteps: Math.max(1, cycles) },
    stochastic: false,
    hasEnergy: false,
    run(x: tf.Tensor, request: ClassifierRunRequest = {}): ClassifierRun {
      // tf.keep: the run's tensors outlive this scope until the caller disposes the run.
      const out = tf.tidy(() => {
        const r = scoredAt(x, request);
        return { logits: r.logits, ...(r.stepLogits ? { stepLogits: r.stepLogits } : {}) };
      });
      const steps = Array.from({ length: (out.stepLogits?.shape[0] ?? 0) }, (_, i) => i);
      return {
        logits: out.logits,
        ...(out.stepLogits ? { stepLogits: { values: out.stepLogits, steps } } : {}),
        steps: cycles,
        stopped: cycles === 0 ? 'feed-forward' : 'max-steps',
        dispose: () => tf.dispose([out.logits, ...(out.stepLogits ? [out.stepLogits] : [])]),
      };
    },
    dispose() {
      tf.dispose(Object.values(params));
    },
  };
  return Object.freeze(classifier);
}

/** From a run folder of the `cnnf-train` job: its model/, the cycles it was trained with, `job.attack` as the surface. */
export function cnnfClassifierFromSource(source: ModelSource): DynamicsClassifier {
  if (!source.trained) throw new DataError(`${source.origin}: a cnn-f network must be trained first; run a cnnf-train spec with neurodyn run and pass the run folder`);
  const { kind: _kind, ...options } = source.system;
  const { train } = source.data;
  const system = createCnnf(options as CnnfSpecOptions, { inputSize: train.height * train.width });
  const params = source.trained.params;
  const missing = system.paramNames.filter((p) => !params[p]);
  if (missing.length) {
    tf.dispose(Object.values(params));
    throw new DataError(`${source.origin}: the saved model lacks parameters ${missing.join(', ')}`);
  }
  const cycles = Number(source.trained.meta?.cycles ?? source.run.maxSteps);
  const surface = (source.job?.attack ?? 'e2e') as AttackSurface;
  if (!ATTACK_SURFACES.includes(surface)) throw new SpecError('job.attack', `must be one of ${ATTACK_SURFACES.join(', ')}, got ${JSON.stringify(surface)}`);
  return cnnfClassifier({ system, params, cycles, surface });
}

export const cnnfClassifierAdapter: ClassifierAdapter = {
  kind: 'cnn-f',
  description: "cnn-f: the scored readout after the model's cycles; gradients through the whole loop (job.attack 'e2e') or the first pass ('first')",
  create: cnnfClassifierFromSource,
};
