/**
 * Any differentiable logits function of the input as a feed-forward DynamicsClassifier (no relaxation, so
 * every gradient mode gives the exact gradient): the way a network trained inside a job (a CNN, a
 * regularized arm) is handed to the attacks and the corruption evaluation without saving it first.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierRun, ClassifierRunRequest, DynamicsClassifier } from '../classifier.js';

export interface FunctionClassifierOptions {
  readonly name: string;
  readonly classes: number;
  readonly imageShape: readonly [number, number, number];
  readonly bounds?: readonly [number, number];
  /** Class scores for x of shape [n, H·W·C]. */
  readonly logits: (x: tf.Tensor) => tf.Tensor2D;
  /** Frees what the classifier owns (default: nothing). */
  readonly dispose?: () => void;
}

export function functionClassifier(options: FunctionClassifierOptions): DynamicsClassifier {
  const [h, w, c] = options.imageShape;
  return Object.freeze({
    name: options.name,
    family: 'feed-forward',
    classes: options.classes,
    inputShape: [h * w * c],
    imageShape: options.imageShape,
    bounds: options.bounds ?? [0, 1],
    stochastic: false,
    hasEnergy: false,
    run(x: tf.Tensor, request: ClassifierRunRequest = {}): ClassifierRun {
      const logits = tf.tidy(() => options.logits(x));
      const stepLogits = request.stepLogits ? { values: tf.expandDims(logits, 0) as tf.Tensor3D, steps: [0] } : undefined;
      return {
        logits,
        ...(stepLogits ? { stepLogits } : {}),
        ...(request.residual ? { residual: new Float32Array(x.shape[0]!) } : {}),
        steps: 0,
        stopped: 'feed-forward',
        dispose: () => tf.dispose([logits, ...(stepLogits ? [stepLogits.values] : [])]),
      };
    },
    dispose: () => options.dispose?.(),
  } satisfies DynamicsClassifier);
}
