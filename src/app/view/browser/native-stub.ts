/**
 * What the browser bundle sees of src/tensor/native/: no native kernels (the page computes on tfjs's WebGL
 * backend), so conv-forms.ts and fused-steps.ts take their plain tfjs forms. build.mjs substitutes this
 * module for native/register.js and native/fused.js, whose Node addon loader cannot be bundled for a page.
 */
export const LEAKY_INTEGRATE = 'NeurodynLeakyIntegrate';
export const EP_LAYER = 'NeurodynEpLayer';
export const CLIP_GRAD = 'NeurodynClipGrad';
export const SOFT_THRESHOLD = 'NeurodynSoftThreshold';
export const SOFT_THRESHOLD_GRAD = 'NeurodynSoftThresholdGrad';

export function nativeKernelsActive(): boolean {
  return false;
}
