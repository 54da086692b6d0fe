// What the sgemm-micro scripts share: the wasm backend with the native addon at one thread, and the two
// things an addon call takes from a tensor, its byte offset in the wasm heap and the heap itself.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../dist/src/tensor/index.js';
import { nativeStatus } from '../../dist/src/tensor/native/addon.js';

await useBackend('wasm');
const status = nativeStatus();
if (!status.available) throw new Error(status.reason);
export const addon = status.addon;
addon.setThreads(1);
const backend = tf.backend();
/** The tensor's byte offset in the wasm heap. */
export const offset = (t) => backend.dataIdMap.get(t.dataId).memoryOffset;
/** The wasm heap's current buffer (it may move when the heap grows, so it is read at each call). */
export const heap = () => backend.wasm.HEAPU8.buffer;
