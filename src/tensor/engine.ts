/**
 * Helpers over the tfjs engine that the core needs and tfjs does not export as ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';

/** Number of live tensors; the leak tests compare it before and after a run. */
export function liveTensorCount(): number {
  return tf.memory().numTensors;
}

/**
 * Runs `fn` with the gradient tape paused: nothing computed inside is recorded, so results are constants
 * to any enclosing `tf.grad`, and no intermediate tensors are saved for a backward pass.
 *
 * tfjs records a kernel only while `gradientDepth > 0 && kernelDepth === 0`; raising `kernelDepth` is
 * exactly what tfjs itself does while running the forward function of a `customGrad`, so this uses the
 * engine's own mechanism rather than a copy of the data.
 */
export function withTapePaused<T>(fn: () => T): T {
  const state = tf.engine().state as unknown as { kernelDepth: number };
  state.kernelDepth++;
  try {
    return fn();
  } finally {
    state.kernelDepth--;
  }
}

/**
 * Runs a nested gradient computation (for example inside the `gradFunc` of a `customGrad`, during an outer
 * backward pass) without clobbering the outer tape. tfjs resets `activeTape` when a gradient starts at
 * depth 0 and clears it when that gradient ends, which would break the enclosing backward pass.
 */
export function withIsolatedTape<T>(fn: () => T): T {
  const state = tf.engine().state as unknown as { activeTape: unknown };
  const outer = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = outer;
  }
}
