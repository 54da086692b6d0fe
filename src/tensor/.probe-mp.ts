import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './vendor/tfjs-gradients.js';
function rnd(shape: number[], seed: number){ let s=seed; const n=shape.reduce((a,b)=>a*b,1); const v=new Float32Array(n); for(let i=0;i<n;i++){ s=(s*1103515245+12345)%2147483648; v[i]=(s/2147483648)*2-1;} return v; }
for (const [shape, f, s, p] of [[[1,4,4,1],2,2,'valid'],[[1,5,5,1],2,2,'valid'],[[1,4,4,2],2,2,'valid'],[[2,4,4,1],2,2,'valid'],[[1,6,6,1],3,1,'valid'],[[1,4,4,1],3,2,'same'],[[1,9,9,3],2,2,'valid']] as const) {
  const out: Record<string, number[]> = {};
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const x = tf.tensor4d(rnd([...shape], 7), [...shape] as any);
    const y = tf.maxPool(x, f, s, p);
    const dy = tf.tensor(rnd(y.shape, 3), y.shape);
    const r = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: f, strides: s, pad: p }) as tf.Tensor;
    out[be] = Array.from(r.dataSync());
  }
  const d = out.cpu!.map((v, i) => Math.abs(v - out.wasm![i]!)); console.log(JSON.stringify(shape), f, s, p, 'maxdiff', Math.max(...d));
  if (Math.max(...d) > 1e-6 && out.cpu!.length <= 32) console.log(out.cpu!.map(v=>v.toFixed(2)).join(' '), '\n', out.wasm!.map(v=>v.toFixed(2)).join(' '));
}
