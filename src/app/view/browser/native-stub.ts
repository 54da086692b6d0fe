/**
 * What the browser bundle sees of src/tensor/native/: no native kernels (the page computes on tfjs's WebGL
 * backend), so conv-forms.ts and fused-steps.ts take their plain tfjs forms. build.mjs substitutes this
 * module for native/register.js and native/fused.js, whose Node addon loader cannot be bundled for a page.
 */
export { CLIP_GRAD, EP_LAYER, LEAKY_INTEGRATE, SOFT_THRESHOLD, SOFT_THRESHOLD_GRAD } from '../../../tensor/native/kernel-names.js';

export function nativeKernelsActive(): boolean {
  return false;
}
