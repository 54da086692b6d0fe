/**
 * UnsortedSegmentSum for wasm (missing from tfjs-backend-wasm 4.22): needed by the gradient of gather
 * (embedding lookups, label-indexed losses) and by tf.unsortedSegmentSum itself.
 *
 * With 1-D segment ids it is a ScatterNd (which adds duplicate indices) of x's rows into
 * [numSegments, ...]: out[segmentIds[i], ...] += x[i, ...]. Ids outside [0, numSegments) are dropped, as the
 * cpu backend does: they are redirected (in a copy of the ids, checked in JS) to one extra row that is
 * sliced off. Segment ids of higher rank (rare) go to the cpu backend's reference kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compose, delegateToCpu, type KernelArgs, type WasmBackend } from './_shared.js';

const onCpu = delegateToCpu(tf.UnsortedSegmentSum);

export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const { inputs, attrs, backend } = args;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (segmentIds.shape.length !== 1 || x.shape.length < 1) return onCpu(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const n = segmentIds.shape[0]!;
  const rest = x.shape.slice(1);
  return compose(backend, (s) => {
    const ids = (backend as WasmBackend).readSync(segmentIds.dataId) as Int32Array;
    let bad = false;
    for (let i = 0; i < n; i++) if (!(ids[i]! >= 0 && ids[i]! < numSegments)) { bad = true; break; }
    const rows = bad ? numSegments + 1 : numSegments;
    const indices = bad
      ? s.alloc([n, 1], 'int32', Int32Array.from(ids, (v) => (v >= 0 && v < numSegments ? v : numSegments)))
      : s.reshape(segmentIds, [n, 1]);
    const scattered = s.run('ScatterNd', { indices, updates: x }, { shape: [rows, ...rest] });
    return bad ? s.slice(scattered, [0, ...rest.map(() => 0)], [numSegments, ...rest]) : scattered;
  });
}

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
