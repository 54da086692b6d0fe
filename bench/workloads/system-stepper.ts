/**
 * A workload instance that repeats a discrete system's own step from its initial state: what the LCA and
 * EP workloads time. The instance owns the given tensors and the state, and frees them in `dispose`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DiscreteSystem } from '../../src/core/system.js';
import { disposeTree, tensorsOf, type TensorTree } from '../../src/core/tree.js';
import type { WorkloadInstance } from '../types.js';

export function systemStepper<S extends TensorTree, P extends TensorTree, U extends TensorTree>(
  system: DiscreteSystem<S, P, U>,
  input: U,
  params: P,
  options: { readonly output: (state: S) => tf.Tensor; readonly owned: readonly tf.Tensor[] },
): WorkloadInstance {
  let state = tf.tidy(() => system.initState(input, params) as unknown as tf.TensorContainer) as unknown as S;
  let k = 0;
  return {
    step() {
      const current = state;
      state = tf.tidy(() => system.step(current, input, params, k++) as unknown as tf.TensorContainer) as unknown as S;
      disposeTree(current);
    },
    output: () => options.output(state),
    dispose() {
      // A system may pass tensors of the input or params through into its state; free each once.
      tf.dispose([...new Set([...options.owned, ...tensorsOf(input), ...tensorsOf(params), ...tensorsOf(state)])]);
    },
  };
}
