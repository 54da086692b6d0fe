/**
 * The emulation engine in tfjs ops (whatever backend is active, wasm by default): the same step as
 * emulate.ts documents, with the synaptic accumulation as one matMul of the stacked presynaptic spikes
 * per population and firing/reset as elementwise ops. State stays in tensors between steps; counts and
 * the readout are accumulated on the backend and read back once per checkpoint.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchResult, EmulationEngine, EngineCounts } from './emulate.js';
import type { SpikingNetwork } from './quantize.js';

export interface TfjsEngineOptions {
  /** Called after every step t (1…steps) with each population's spikes (and the input encoder's), [batch × size]; for spike rasters. */
  readonly onSpikes?: (t: number, spikes: ReadonlyMap<string, Float32Array>) => void;
}

export function tfjsEngine(options: TfjsEngineOptions = {}): EmulationEngine {
  return {
    name: 'tfjs',
    runBatch(network: SpikingNetwork, xData: Float32Array, batch: number, valid: number, steps: number, checkpoints: readonly number[]): BatchResult {
      const inputSize = network.inputSize;
      const readoutCounts = new Map<number, Float32Array>();
      const names = [network.inputName, ...network.populations.map((p) => p.name)];
      const constants = tf.tidy(() => {
        const x = tf.tensor2d(xData, [batch, inputSize]);
        // 1 for the real rows, 0 for padding: counts are taken over the real rows only.
        const mask = tf.concat([tf.ones([valid, 1]), tf.zeros([batch - valid, 1])]);
        const perPopulation = network.populations.map((p) => ({
          weight: tf.tensor2d(p.weight, [p.fanIn, p.size]),
          bias: tf.tensor1d(p.bias),
          fanOut: tf.tensor2d(Float32Array.from(p.rowFanOut), [p.fanIn, 1]),
          v0: p.initialFromInput !== undefined ? tf.mul(x, p.initialFromInput * p.threshold) : tf.zeros([batch, p.size]),
        }));
        return { x, mask, perPopulation };
      });
      let vIn: tf.Tensor = tf.zeros([batch, inputSize]);
      let v: tf.Tensor[] = constants.perPopulation.map((c) => c.v0);
      let spikes: Map<string, tf.Tensor> = new Map(names.map((n) => [n, tf.zeros([batch, n === network.inputName ? inputSize : network.populations.find((p) => p.name === n)!.size])]));
      // Per layer: [spikes, effective ACs] accumulated on the backend.
      let tallies: tf.Tensor = tf.zeros([names.length, 2]);
      const readoutIndex = network.populations.findIndex((p) => p.name === network.readout);
      let readoutSum: tf.Tensor = tf.zeros([batch, network.populations[readoutIndex]!.size]);
      try {
        for (let t = 1; t <= steps; t++) {
          const result = tf.tidy(() => {
            const u = tf.add(vIn, constants.x);
            const sx = tf.cast(tf.greaterEqual(u, 1), 'float32');
            const nextVIn = tf.sub(u, sx);
            const next = new Map<string, tf.Tensor>([[network.inputName, sx]]);
            const rowTallies: tf.Tensor[] = [tf.stack([tf.sum(tf.mul(sx, constants.mask)), tf.scalar(0)])];
            const nextV = network.populations.map((p, i) => {
              const c = constants.perPopulation[i]!;
              const sIn = p.sources.length === 1 ? spikes.get(p.sources[0]!)! : tf.concat(p.sources.map((s) => spikes.get(s)!), 1);
              let vp = tf.add(v[i]!, c.bias);
              if (p.fanIn > 0) vp = tf.add(vp, tf.matMul(sIn, c.weight));
              let s = tf.cast(tf.greaterEqual(vp, p.threshold), 'float32');
              if (p.signed) s = tf.sub(s, tf.cast(tf.lessEqual(vp, -p.threshold), 'float32'));
              vp = tf.sub(vp, tf.mul(s, p.threshold));
              if (Number.isFinite(p.stateLimit)) vp = tf.clipByValue(vp, -p.stateLimit, p.stateLimit);
              next.set(p.name, s);
              const fired = tf.sum(tf.mul(tf.abs(s), constants.mask));
              const acs = p.fanIn > 0 ? tf.sum(tf.mul(tf.matMul(tf.abs(sIn), c.fanOut), constants.mask)) : tf.scalar(0);
              rowTallies.push(tf.stack([fired, acs]));
              return vp;
            });
            const nextTallies = tf.add(tallies, tf.stack(rowTallies));
            const nextReadout = tf.add(readoutSum, next.get(network.readout)!);
            // tidy keeps only tensors it can see in arrays and plain objects, so the spikes leave as an array.
            return { nextVIn, nextSpikes: names.map((n) => next.get(n)!), nextV, nextTallies, nextReadout };
          });
          tf.dispose([vIn, ...v, ...spikes.values(), tallies, readoutSum]);
          vIn = result.nextVIn;
          v = result.nextV;
          spikes = new Map(names.map((n, i) => [n, result.nextSpikes[i]!]));
          tallies = result.nextTallies;
          readoutSum = result.nextReadout;
          if (checkpoints.includes(t)) readoutCounts.set(t, readoutSum.dataSync().slice() as Float32Array);
          if (options.onSpikes) options.onSpikes(t, new Map(names.map((n) => [n, spikes.get(n)!.dataSync() as Float32Array])));
        }
        const tally = tallies.dataSync();
        const counts: Record<string, EngineCounts> = {};
        names.forEach((name, i) => {
          const p = network.populations[i - 1];
          counts[name] = {
            spikes: tally[2 * i]!,
            effective_acs: tally[2 * i + 1]!,
            neuron_updates: p ? valid * p.size * steps : 0,
            dense_macs: p ? valid * p.fanIn * p.size * steps : 0,
          };
        });
        return { readoutCounts, counts };
      } finally {
        tf.dispose([vIn, ...v, ...spikes.values(), tallies, readoutSum, constants.x, constants.mask]);
        for (const c of constants.perPopulation) tf.dispose([c.weight, c.bias, c.fanOut]);
      }
    },
    dispose() {},
  };
}
