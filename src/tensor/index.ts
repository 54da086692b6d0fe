export * from './backend.js';
export * from './engine.js';
export { GRADIENTS_TFJS_VERSION, registerGradients } from './gradients.js';
export { WASM_KERNEL_FIXES, isNeurodynWasmKernel, registerWasmKernels, type WasmKernelFix } from './wasm-kernels/register.js';
export {
  disableNativeKernels, enableNativeKernels, isNativeKernel, nativeKernelInfo, nativeKernelsActive, nativeKernelsEnabled, nativeStatus,
  nativeThreads, setNativeThreads, type NativeKernelInfo,
} from './native/index.js';
export { convForm, convolve, convolveTransposed, type ConvForm, type ConvShape } from './conv-forms.js';
export { clippedLayer, leakyIntegrate, sgdMomentumStep, softThreshold, type LayerDrive, type SgdMomentumSettings } from './fused-steps.js';
