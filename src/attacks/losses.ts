/**
 * Per-example attack losses of logits z ([batch, classes]) and true labels y, written so that the attacker
 * *maximises* them:
 *
 * - `ce`      cross-entropy  log Σ_i e^{z_i} − z_y;
 * - `margin`  the Carlini–Wagner margin  max_{i≠y} z_i − z_y (positive exactly when the example is misclassified);
 * - `dlr`     the difference of logits ratio (Croce & Hein, ICML 2020, eq. 5)
 *             −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 10⁻¹²), π the logits sorted in decreasing order. It
 *             is invariant to shifting and rescaling the logits, which matters for networks whose readout
 *             is a bounded state (EP's output layer in [0, 1]) rather than unnormalised logits. It needs at
 *             least 3 classes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../base/errors.js';

export type LossKind = 'ce' | 'margin' | 'dlr';
export const LOSS_KINDS: readonly LossKind[] = ['ce', 'margin', 'dlr'];

/** Large negative number added to the true class's logit to exclude it from a max. */
const EXCLUDE = 1e9;

/** max_{i≠y} z_i, shape [batch]. */
export function largestOtherLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.max(tf.sub(logits, tf.mul(tf.oneHot(labels, logits.shape[1]), EXCLUDE)), 1) as tf.Tensor1D);
}

export function trueLogit(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(logits, tf.oneHot(labels, logits.shape[1])), 1) as tf.Tensor1D);
}

/**
 * The three largest logits per example, [batch] each, by repeated max with the winner masked out (tfjs
 * has no gradient for TopK; max passes the gradient to the element it selects, as a sort would).
 */
function largestThree(logits: tf.Tensor2D): tf.Tensor1D[] {
  const out: tf.Tensor1D[] = [];
  let rest: tf.Tensor2D = logits;
  for (let k = 0; k < 3; k++) {
    out.push(tf.max(rest, 1) as tf.Tensor1D);
    if (k < 2) rest = tf.sub(rest, tf.mul(tf.oneHot(tf.argMax(rest, 1), logits.shape[1]), EXCLUDE)) as tf.Tensor2D;
  }
  return out;
}

export function attackLoss(kind: LossKind, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const own = trueLogit(logits, labels);
    switch (kind) {
      case 'ce':
        return tf.sub(tf.logSumExp(logits, 1), own) as tf.Tensor1D;
      case 'margin':
        return tf.sub(largestOtherLogit(logits, labels), own) as tf.Tensor1D;
      case 'dlr': {
        const classes = logits.shape[1];
        if (classes < 3) throw new SpecError('loss', `the DLR loss needs at least 3 classes, the model has ${classes}; use ce or margin`);
        const [first, , third] = largestThree(logits);
        return tf.neg(tf.div(tf.sub(own, largestOtherLogit(logits, labels)), tf.add(tf.sub(first!, third!), 1e-12))) as tf.Tensor1D;
      }
    }
  });
}

/** For each example, whether the prediction argmax z differs from the label. */
export function misclassified(logits: tf.Tensor2D, labels: tf.Tensor1D): Uint8Array {
  const wrong = tf.tidy(() => tf.cast(tf.notEqual(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32'));
  const out = Uint8Array.from(wrong.dataSync());
  wrong.dispose();
  return out;
}

export function parseLossKind(text: string, path = 'loss'): LossKind {
  if ((LOSS_KINDS as readonly string[]).includes(text)) return text as LossKind;
  throw new SpecError(path, `${JSON.stringify(text)} is not an attack loss; allowed: ${LOSS_KINDS.join(', ')}`);
}
