export { nativeDisabledByEnvironment, nativeStatus, nativeThreads, setNativeThreads, type NativeStatus } from './addon.js';
export { NATIVE_KERNELS, disableNativeKernels, enableNativeKernels, isNativeKernel, nativeKernelInfo, nativeKernelsActive, nativeKernelsEnabled, type NativeKernelInfo } from './register.js';
