/**
 * tfjs-core's gradient functions (what tf.grad, tf.grads, tf.variableGrads and customGrad chains need).
 *
 * On Node, `@tensorflow/tfjs-core` resolves to a CommonJS bundle that has the gradient registry but not a
 * single gradient config, so every tf.grad fails with "Cannot compute gradient: gradient function not found
 * for Sum" unless something registers them (the `@tensorflow/tfjs` union package does; this project
 * depends on tfjs-core alone). The configs are vendored, generated from the installed tfjs-core, in
 * ./vendor/tfjs-gradients.ts. Importing this module registers them; every module of src/tensor that
 * other layers import (backend, engine) imports this one, so importing anything from src/tensor is enough.
 */
import * as tf from '@tensorflow/tfjs-core';
import { GRADIENT_CONFIGS, TFJS_CORE_VERSION } from './vendor/tfjs-gradients.js';

const CONFIGS = GRADIENT_CONFIGS as unknown as readonly tf.GradConfig[];

/** The tfjs-core version the vendored gradients were generated from. */
export const GRADIENTS_TFJS_VERSION: string = TFJS_CORE_VERSION;

/**
 * Registers every vendored gradient whose kernel has none yet (a gradient registered by someone else, e.g.
 * @tensorflow/tfjs loaded with tfjs-node, is left alone). Idempotent; runs on import of this module.
 */
export function registerGradients(): void {
  for (const config of CONFIGS) {
    if (tf.getGradient(config.kernelName) == null) tf.registerGradient(config);
  }
}

/**
 * Removes the vendored gradients this module registered (not anyone else's), so that a package about to
 * register its own (tfjs-node's @tensorflow/tfjs) does not log an "Overriding the gradient" warning for each.
 */
export function unregisterVendoredGradients(): void {
  for (const config of CONFIGS) {
    if (tf.getGradient(config.kernelName) === config) tf.unregisterGradient(config.kernelName);
  }
}

registerGradients();
