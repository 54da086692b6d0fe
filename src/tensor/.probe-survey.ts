import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './vendor/tfjs-gradients.js';
function rnd(shape: number[], seed: number){ let s=seed; const n=shape.reduce((a,b)=>a*b,1); const v=new Float32Array(n); for(let i=0;i<n;i++){ s=(s*1103515245+12345)%2147483648; v[i]=(s/2147483648)*2-1;} return tf.tensor(v, shape); }
const T = tf as any;
const cases: Record<string, (a: tf.Tensor[]) => tf.Tensor> = {
 conv2d_s1_same: ([x,w]) => tf.conv2d(x as tf.Tensor4D,w as tf.Tensor4D,1,'same'),
 conv2d_s2_valid: ([x,w]) => tf.conv2d(x as tf.Tensor4D,w as tf.Tensor4D,2,'valid'),
 conv2dT: ([x,w]) => tf.conv2dTranspose(x as tf.Tensor4D, tf.slice(tf.transpose(w,[0,1,3,2]),[0,0,0,0],[3,3,4,3]) as tf.Tensor4D, [2,9,9,4], 1, 'same'),
 conv2dT_s2: ([x,w]) => tf.conv2dTranspose(x as tf.Tensor4D, tf.slice(tf.transpose(w,[0,1,3,2]),[0,0,0,0],[3,3,4,3]) as tf.Tensor4D, [2,18,18,4], 2, 'same'),
 depthwise: ([x,w]) => tf.depthwiseConv2d(x as tf.Tensor4D, tf.slice(w,[0,0,0,0],[3,3,3,2]) as tf.Tensor4D, 1, 'same'),
 depthwise_s2: ([x,w]) => tf.depthwiseConv2d(x as tf.Tensor4D, tf.slice(w,[0,0,0,0],[3,3,3,2]) as tf.Tensor4D, 2, 'valid'),
 separable: ([x,w]) => tf.separableConv2d(x as tf.Tensor4D, tf.slice(w,[0,0,0,0],[3,3,3,2]) as tf.Tensor4D, tf.ones([1,1,6,4]) as tf.Tensor4D, 1, 'same'),
 maxPool: ([x]) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'),
 maxPoolSame: ([x]) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'),
 avgPool: ([x]) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'same'),
 avgPool3: ([x]) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'valid'),
 batchNorm: ([x]) => { const m = tf.moments(x,[0,1,2]); return tf.batchNorm(x, m.mean, m.variance, tf.mul(tf.ones([3]),0.5), tf.mul(tf.ones([3]),2), 1e-3); },
 acts: ([x]) => tf.addN([tf.relu(x),tf.elu(x),tf.sigmoid(x),tf.tanh(x),tf.softplus(x),tf.leakyRelu(x,0.1),tf.selu(x),tf.relu6(tf.mul(x,7)),tf.clipByValue(x,-0.3,0.4)]),
 acts2: ([x]) => tf.addN([tf.abs(x),tf.square(x),tf.exp(x),tf.log(tf.add(tf.abs(x),1)),tf.sqrt(tf.add(tf.abs(x),1)),tf.pow(tf.add(tf.abs(x),1),1.5),tf.maximum(x,0.1),tf.minimum(x,0.2),tf.sin(x),tf.cos(x),tf.erf(x),tf.atan(x),tf.prelu(x, tf.scalar(0.2)), tf.rsqrt(tf.add(tf.abs(x),1)), tf.reciprocal(tf.add(tf.abs(x),1)), tf.log1p(tf.abs(x)), tf.expm1(x)]),
 logsm: ([x]) => tf.logSoftmax(tf.reshape(x,[2,-1])),
 ce: ([x]) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1,3],'int32'), 243), tf.reshape(x,[2,-1])),
 sm: ([x]) => tf.softmax(tf.reshape(x,[2,-1])),
 sigce: ([x]) => tf.losses.sigmoidCrossEntropy(tf.mul(tf.onesLike(x),0.3), x),
 matmul: ([x]) => { const a = tf.reshape(x,[2*9*9, 3]); return tf.add(tf.matMul(a, a, true, false), tf.sum(tf.matMul(a, a, false, true))); },
 batchMatmul: ([x]) => { const a = tf.reshape(x,[2, 81, 3]); return tf.matMul(a, a, true, false); },
 transpose_pad_slice_concat: ([x]) => tf.concat([tf.slice(tf.pad(tf.transpose(x,[0,3,1,2]),[[0,0],[0,0],[1,2],[2,1]]),[0,1,0,1],[2,2,5,5]), tf.slice(tf.transpose(x,[0,3,1,2]),[0,0,0,0],[2,2,5,5])], 1),
 gather: ([x]) => tf.gather(tf.reshape(x,[-1,3]), tf.tensor1d([0,5,5,7],'int32')),
 gatherNd: ([x]) => tf.gatherND(x, tf.tensor2d([[0,1,2,1],[1,2,3,0]],[2,4],'int32')),
 reductions: ([x]) => tf.addN([tf.max(x,[1,2]),tf.min(x,[1,2]),tf.mean(x,[1,2]),tf.reshape(tf.prod(tf.slice(x,[0,0,0,0],[2,2,2,3]),[1,2]),[2,3]),tf.logSumExp(x,[1,2])]),
 resize: ([x]) => tf.add(tf.image.resizeBilinear(x as tf.Tensor4D,[5,5]),tf.image.resizeNearestNeighbor(x as tf.Tensor4D,[5,5])),
 tile_stack_unstack: ([x]) => tf.stack(tf.unstack(tf.tile(x,[1,2,1,1]), 1).slice(0,3)),
 where_select: ([x]) => tf.where(tf.greater(x,0), x, tf.mul(x,3)),
 cumsum: ([x]) => tf.cumsum(x, 1),
 split: ([x]) => tf.split(x, 3, 3)[1]!,
 stridedSlice: ([x]) => tf.stridedSlice(x,[0,1,0,0],[2,9,9,3],[1,2,3,1]),
 mirrorPad: ([x]) => tf.mirrorPad(x,[[0,0],[1,1],[2,2],[0,0]],'reflect'),
 l2norm: ([x]) => tf.add(tf.norm(x),tf.sum(tf.squaredDifference(x, 0.3))),
 lrn: ([x]) => tf.localResponseNormalization(x as tf.Tensor4D, 1),
 reverse: ([x]) => tf.reverse(x, [1,2]),
 spaceToBatch: ([x]) => tf.spaceToBatchND(tf.slice(x,[0,0,0,0],[2,8,8,3]), [2,2], [[0,0],[0,0]]),
 depthToSpace: ([x]) => tf.depthToSpace(tf.tile(x,[1,1,1,4]) as tf.Tensor4D, 2),
 unsortedSegmentSum: ([x]) => tf.unsortedSegmentSum(tf.reshape(x,[-1,3]), tf.tensor1d(Array.from({length:162},(_, i)=>i%5),'int32'), 5),
 dilation2d: ([x]) => tf.dilation2d(x as tf.Tensor4D, tf.mul(tf.ones([2,2,3]),0.1) as tf.Tensor3D, 1, 'same'),
 fusedConv: ([x,w]) => tf.fused.conv2d({x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: tf.ones([5]), activation: 'relu'}),
 fusedDepthwise: ([x,w]) => tf.fused.depthwiseConv2d({x: x as tf.Tensor4D, filter: tf.slice(w,[0,0,0,0],[3,3,3,2]) as tf.Tensor4D, strides: 1, pad: 'same', bias: tf.ones([6]), activation: 'elu'}),
 fusedMatMul: ([x]) => tf.fused.matMul({a: tf.reshape(x,[-1,3]) as tf.Tensor2D, b: tf.ones([3,4]) as tf.Tensor2D, bias: tf.ones([4]), activation: 'elu'}),
 conv3d: ([x]) => tf.conv3d(tf.reshape(x,[2,3,3,9,3]) as tf.Tensor5D, tf.ones([2,2,2,3,2]) as tf.Tensor5D, 1, 'same'),
 maxPool3d: ([x]) => tf.maxPool3d(tf.reshape(x,[2,3,3,9,3]) as tf.Tensor5D, 2, 1, 'same'),
 avgPool3d: ([x]) => tf.avgPool3d(tf.reshape(x,[2,3,3,9,3]) as tf.Tensor5D, 2, 1, 'same'),
 dropout_like: ([x]) => tf.mul(x, tf.step(x)),
 sign_round_floor: ([x]) => tf.addN([tf.mul(x,tf.sign(x)),tf.floor(x),tf.round(x)]),
 atan2_div: ([x]) => tf.add(tf.atan2(x, tf.scalar(0.7)),tf.div(x, tf.add(tf.abs(x),1))),
 broadcastTo_expand: ([x]) => tf.broadcastTo(tf.expandDims(tf.sum(x,0),0), [3,9,9,3]),
 onehot_argmax: ([x]) => tf.mul(x, tf.sum(tf.oneHot(tf.argMax(tf.reshape(x,[-1,3]),1),3))),
 mod: ([x]) => tf.mod(x, tf.scalar(0.3)),
};
const results: Record<string, Record<string, string | Float32Array[]>> = {};
for (const be of ['cpu','wasm']) {
  await tf.setBackend(be); await tf.ready();
  for (const [name, f] of Object.entries(cases)) {
    results[name] ??= {};
    try {
      const x = rnd([2,9,9,3], 7), w = rnd([3,3,3,5], 11);
      const g = tf.grads((x: tf.Tensor, w: tf.Tensor)=> { const y = tf.add(f([x,w]), tf.mul(tf.sum(w), 1e-3)); return tf.sum(tf.mul(y, rnd(y.shape, 3))); });
      const [gx, gw] = g([x,w]);
      results[name]![be] = [gx!.dataSync() as Float32Array, gw!.dataSync() as Float32Array];
    } catch (e) { results[name]![be] = 'ERR ' + (e as Error).message.slice(0,160); }
  }
}
for (const [n, r] of Object.entries(results)) {
  if (typeof r.cpu === 'string' || typeof r.wasm === 'string') { console.log(n, 'cpu:', typeof r.cpu==='string'?r.cpu:'ok', '| wasm:', typeof r.wasm==='string'?r.wasm:'ok'); continue; }
  let md = 0, mx=0; const c = r.cpu as Float32Array[], w = r.wasm as Float32Array[];
  for (let k=0;k<2;k++) for (let i=0;i<c[k]!.length;i++){ md=Math.max(md,Math.abs(c[k]![i]!-w[k]![i]!)); mx=Math.max(mx,Math.abs(c[k]![i]!)); }
  console.log(n, 'maxdiff', md.toExponential(2), 'scale', mx.toFixed(2), md > 1e-4*Math.max(1,mx) ? '  <<< MISMATCH' : '');
}
