/**
 * The names the fused native kernels are registered under (src/tensor/native/fused.ts). A module of its own,
 * with no addon import, so that the browser bundle's native stub can name the same kernels.
 */
export const LEAKY_INTEGRATE = 'NeurodynLeakyIntegrate';
export const EP_LAYER = 'NeurodynEpLayer';
export const CLIP_GRAD = 'NeurodynClipGrad';
export const SOFT_THRESHOLD = 'NeurodynSoftThreshold';
export const SOFT_THRESHOLD_GRAD = 'NeurodynSoftThresholdGrad';
export const SGD_MOMENTUM = 'NeurodynSgdMomentum';
