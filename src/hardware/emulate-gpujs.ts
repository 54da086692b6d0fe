/**
 * The emulation engine on gpu.js: one kernel per population does the synaptic accumulation
 * v_p + b_p + Σ_j s_j W_jp over the stacked presynaptic spikes (the O(batch·fan-in·size) part, skipping
 * silent inputs as an event-driven core does); firing, reset, saturation and counting are a plain
 * O(batch·size) loop. Kernels run in gpu.js's `webasm` mode (WebAssembly, SIMD) by default.
 */
import { createGpu, type GPU, type GpuJsMode, type IKernelRunShortcut } from '../tensor/gpujs.js';
import type { BatchResult, EmulationEngine, EngineCounts } from './emulate.js';
import type { SpikingNetwork, SpikingPopulation } from './quantize.js';

/** Written as a plain function so gpu.js can compile it; `this` is gpu.js's kernel context. */
function integrateKernel(this: any, v: Float32Array, bias: Float32Array, s: Float32Array, w: Float32Array): number {
  const n = this.constants.size as number;
  const k = this.constants.fanIn as number;
  const b = Math.floor(this.thread.x / n);
  const i = this.thread.x - b * n;
  let acc = v[this.thread.x]! + bias[i]!;
  for (let j = 0; j < k; j++) {
    const sj = s[b * k + j]!;
    if (sj !== 0) acc += sj * w[j * n + i]!;
  }
  return acc;
}

export function gpuJsEngine(mode: GpuJsMode = 'webasm'): EmulationEngine {
  const gpu: GPU = createGpu(mode);
  const kernels = new Map<string, IKernelRunShortcut>();
  const kernelFor = (p: SpikingPopulation, batch: number) => {
    const key = `${p.size}x${p.fanIn}x${batch}`;
    let kernel = kernels.get(key);
    if (!kernel) {
      kernel = gpu.createKernel(integrateKernel as never, { output: [batch * p.size], constants: { size: p.size, fanIn: p.fanIn }, tactic: 'precision' } as never) as IKernelRunShortcut;
      kernels.set(key, kernel);
    }
    return kernel;
  };
  return {
    name: 'gpujs',
    runBatch(network: SpikingNetwork, x: Float32Array, batch: number, valid: number, steps: number, checkpoints: readonly number[]): BatchResult {
      const inputSize = network.inputSize;
      const vIn = new Float32Array(batch * inputSize);
      let spikes = new Map<string, Float32Array>([[network.inputName, new Float32Array(batch * inputSize)]]);
      const v = new Map<string, Float32Array>();
      for (const p of network.populations) {
        spikes.set(p.name, new Float32Array(batch * p.size));
        const v0 = new Float32Array(batch * p.size);
        if (p.initialFromInput !== undefined) for (let k = 0; k < v0.length; k++) v0[k] = p.initialFromInput * p.threshold * x[k]!;
        v.set(p.name, v0);
      }
      const counts: Record<string, EngineCounts> = { [network.inputName]: { spikes: 0, effective_acs: 0, neuron_updates: 0, dense_macs: 0 } };
      for (const p of network.populations) counts[p.name] = { spikes: 0, effective_acs: 0, neuron_updates: 0, dense_macs: 0 };
      const readoutSize = network.populations.find((p) => p.name === network.readout)!.size;
      const readoutSum = new Float32Array(batch * readoutSize);
      const readoutCounts = new Map<number, Float32Array>();
      const stacked = new Map(network.populations.map((p) => [p.name, new Float32Array(batch * p.fanIn)]));
      for (let t = 1; t <= steps; t++) {
        const next = new Map<string, Float32Array>();
        // Input encoder.
        const sx = new Float32Array(batch * inputSize);
        for (let k = 0; k < sx.length; k++) {
          const u = vIn[k]! + x[k]!;
          const fire = u >= 1 ? 1 : 0;
          sx[k] = fire;
          vIn[k] = u - fire;
        }
        let inputSpikes = 0;
        for (let k = 0; k < valid * inputSize; k++) inputSpikes += sx[k]!;
        counts[network.inputName]!.spikes += inputSpikes;
        next.set(network.inputName, sx);
        for (const p of network.populations) {
          const sIn = stacked.get(p.name)!;
          let offset = 0;
          let acs = 0;
          for (const source of p.sources) {
            const sq = spikes.get(source)!;
            const width = sq.length / batch;
            for (let b = 0; b < batch; b++) {
              for (let j = 0; j < width; j++) {
                const s = sq[b * width + j]!;
                sIn[b * p.fanIn + offset + j] = s;
                if (b < valid && s !== 0) acs += p.rowFanOut[offset + j]!;
              }
            }
            offset += width;
          }
          const vp = p.fanIn > 0 ? (kernelFor(p, batch)(v.get(p.name)!, p.bias, sIn, p.weight) as Float32Array) : addBias(v.get(p.name)!, p.bias);
          const sp = new Float32Array(batch * p.size);
          let fired = 0;
          for (let k = 0; k < vp.length; k++) {
            let u = vp[k]!;
            let s = 0;
            if (u >= p.threshold) s = 1;
            else if (p.signed && u <= -p.threshold) s = -1;
            u -= s * p.threshold;
            if (u > p.stateLimit) u = p.stateLimit;
            else if (u < -p.stateLimit) u = -p.stateLimit;
            vp[k] = u;
            sp[k] = s;
            if (s !== 0 && k < valid * p.size) fired++;
          }
          v.set(p.name, vp);
          next.set(p.name, sp);
          const c = counts[p.name]!;
          c.spikes += fired;
          c.effective_acs += acs;
          c.neuron_updates += valid * p.size;
          c.dense_macs += valid * p.fanIn * p.size;
          if (p.name === network.readout) for (let k = 0; k < sp.length; k++) readoutSum[k]! += sp[k]!;
        }
        spikes = next;
        if (checkpoints.includes(t)) readoutCounts.set(t, readoutSum.slice());
      }
      return { readoutCounts, counts };
    },
    dispose() {
      for (const k of kernels.values()) (k as unknown as { destroy?: () => void }).destroy?.();
      kernels.clear();
      gpu.destroy();
    },
  };
}

function addBias(v: Float32Array, bias: Float32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let k = 0; k < v.length; k++) out[k] = v[k]! + bias[k % bias.length]!;
  return out;
}
