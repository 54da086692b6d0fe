/**
 * The emulation engine on gpu.js (the step emulate.ts documents): one kernel per population does the
 * synaptic accumulation Σ_j s_j W_jp + b_p over the stacked presynaptic spikes (the O(batch·fan-in·size) part, skipping
 * silent inputs as an event-driven core does); firing, reset, saturation and counting are a plain
 * O(batch·size) loop. Kernels run in gpu.js's `webasm` mode (WebAssembly, SIMD) by default.
 */
import { createGpu, type GPU, type GpuJsMode, type IKernelRunShortcut } from '../tensor/gpujs.js';
import type { BatchResult, EmulationEngine, EngineCounts, StepSpikes } from './emulate.js';
import type { SpikingNetwork, SpikingPopulation } from './quantize.js';

/** Written as a plain function so gpu.js can compile it; `this` is gpu.js's kernel context. */
function integrateKernel(this: any, bias: Float32Array, s: Float32Array, w: Float32Array): number {
  const n = this.constants.size as number;
  const k = this.constants.fanIn as number;
  const b = Math.floor(this.thread.x / n);
  const i = this.thread.x - b * n;
  let acc = 0;
  for (let j = 0; j < k; j++) {
    const sj = s[b * k + j]!;
    if (sj !== 0) acc += sj * w[j * n + i]!;
  }
  return acc + bias[i]!;
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
    runBatch(network: SpikingNetwork, x: Float32Array, batch: number, valid: number, steps: number, checkpoints: readonly number[], onStep?: StepSpikes): BatchResult {
      const subtract = network.reset === 'subtract';
      const S = Math.fround(network.inputThreshold);
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
        const zx = spikes.get(network.inputName)!;
        for (let k = 0; k < sx.length; k++) {
          const d = subtract ? Math.fround(x[k]! - S * zx[k]!) : x[k]!;
          const u = Math.fround(vIn[k]! + d);
          const fire = u > S ? 1 : 0;
          sx[k] = fire;
          vIn[k] = subtract || fire === 0 ? u : 0;
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
          const drive = p.fanIn > 0 ? (kernelFor(p, batch)(p.bias, sIn, p.weight) as Float32Array) : tiledBias(batch, p.bias);
          const vp = v.get(p.name)!;
          const zp = spikes.get(p.name)!;
          const sp = new Float32Array(batch * p.size);
          const theta = Math.fround(p.threshold);
          let fired = 0;
          for (let k = 0; k < vp.length; k++) {
            const d = subtract ? Math.fround(drive[k]! - theta * zp[k]!) : drive[k]!;
            let u = Math.fround(vp[k]! + d);
            if (u > p.stateLimit) u = p.stateLimit;
            else if (u < -p.stateLimit) u = -p.stateLimit;
            let s = 0;
            if (u > theta) s = 1;
            else if (p.signed && u < -theta) s = -1;
            vp[k] = subtract || s === 0 ? u : 0;
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
        if (onStep) onStep(t, spikes);
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

function tiledBias(batch: number, bias: Float32Array): Float32Array {
  const out = new Float32Array(batch * bias.length);
  for (let b = 0; b < batch; b++) out.set(bias, b * bias.length);
  return out;
}
