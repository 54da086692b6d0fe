/**
 * Transfer attacks: adversarial points crafted on a *source* model (another network, the same network
 * unrolled to a different number of steps, or its first feed-forward pass) and judged on the defender.
 * If these break more examples than white-box attacks on the defender itself, the defender's gradients
 * are masked (Athalye, Carlini & Wagner 2018; Carlini et al. 2019 checklist).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Attack, AttackRequest, AttackResult } from './attack.js';
import type { AttackModel } from './attack-model.js';
import { misclassified } from './losses.js';

export function transfer(source: AttackModel, inner: Attack, name = `transfer-${inner.name}`): Attack {
  return {
    name,
    access: 'transfer',
    run(request: AttackRequest): AttackResult {
      const crafted = inner.run({ ...request, model: source });
      const logits = request.model.logits(crafted.adversarial);
      const fooled = misclassified(logits, request.labels);
      tf.dispose(logits);
      return { adversarial: crafted.adversarial, fooled };
    },
  };
}
