/**
 * The adversarial copy of a test example the live view relaxes beside the clean one: FGSM or PGD in L∞
 * from src/attacks, through the very relaxation the view shows (the view model's system, parameters,
 * integrator, dt and step count, no early stop), with the unrolled gradient (BPTT over those steps, the
 * exact gradient of what is run). The same code runs in the page (bundled, tfjs WebGL/WebGPU) and in the
 * server (wasm, for mode=server), with the random start drawn in JavaScript from the run's seed split by
 * `view-<attack>-<ε>-<index>`, so both modes start PGD from the same point.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeRng } from '../../base/rng.js';
import { attackModel } from '../../attacks/attack-model.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import { fgsm, pgd } from '../../attacks/pgd.js';
import { VIEW_PGD_STEPS, type ViewAttack } from './manifest.js';
import type { ViewModel } from './view-model.js';

export interface AdversarialExample {
  /** The attacked input, inside the L∞ ball of radius ε around the clean one and in [0, 1]. */
  readonly image: Float32Array;
  /** Whether the model's relaxation misclassifies it. */
  readonly fooled: boolean;
  /** The attack as it ran, e.g. "PGD-10 (L∞, ε = 0.1, unrolled gradient through 12 steps)". */
  readonly description: string;
}

/** Why a view model cannot be attacked, or undefined when it can. */
export function attackUnavailable(model: Pick<ViewModel, 'scores' | 'kind'>): string | undefined {
  return model.scores ? undefined : `the ${model.kind} view shows a code without class scores, so there is nothing for an attack to fool`;
}

/** The view model as a classifier for src/attacks (it borrows the model's tensors: never dispose it). */
function classifierOf(model: ViewModel, imageShape: readonly [number, number], classes: number): DynamicsClassifier {
  return relaxationClassifier({
    name: `${model.kind} (live view)`,
    family: model.kind,
    system: model.system,
    params: model.params,
    classes,
    imageShape: [imageShape[0], imageShape[1], 1],
    relaxation: { maxSteps: model.maxSteps, dt: model.dt, ...(model.integrator ? { integrator: model.integrator } : {}) },
    toInput: (x) => model.input(x as tf.Tensor2D),
    logitsOf: (readout) => model.scores!(readout) as tf.Tensor2D,
  });
}

export function adversarialExample(model: ViewModel, image: Float32Array, label: number, attack: ViewAttack, eps: number, options: { seed: number; index: number; imageShape: readonly [number, number]; classes: number }): AdversarialExample {
  const why = attackUnavailable(model);
  if (why) throw new Error(why);
  const classifier = classifierOf(model, options.imageShape, options.classes);
  const attacker = attackModel(classifier, { gradient: { kind: 'unrolled' } });
  const run = attack === 'fgsm' ? fgsm({ loss: 'ce' }) : pgd({ steps: VIEW_PGD_STEPS, loss: 'ce', restarts: 1 });
  const x = tf.tensor2d(image, [1, image.length]);
  const labels = tf.tensor1d([label], 'int32');
  const result = run.run({ model: attacker, x, labels, threat: { norm: 'linf', epsilon: eps, bounds: [0, 1] }, rng: makeRng(options.seed).split(`view-${attack}-${eps}-${options.index}`) });
  const out = result.adversarial.dataSync() as Float32Array;
  const adversarial = Float32Array.from(out);
  tf.dispose([x, labels, result.adversarial]);
  const name = attack === 'fgsm' ? 'FGSM' : `PGD-${VIEW_PGD_STEPS}`;
  return { image: adversarial, fooled: result.fooled[0] === 1, description: `${name} (L∞, ε = ${eps}, unrolled gradient through ${model.maxSteps} steps)` };
}
