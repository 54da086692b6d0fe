import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/families/index.js';
import { nirMappers, UnmappableError } from '../../src/export/nir-mapping.js';
import { spikingNetworkToNir } from '../../src/hardware/spiking-nir.js';
import { nir, readNir, writeNir, type NirGraph } from '../../src/export/nir.js';
import { toSpikingNetwork } from '../../src/hardware/quantize.js';
import type { LayeredNetwork } from '../../src/hardware/network.js';
import { referenceNirAvailable, runPython } from './reference-reader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nir-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const seq = (n: number, scale = 0.01) => Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) * scale);

/** Every primitive the exporter uses, chained so that the reference type checker can infer every shape. */
function everyPrimitive(): NirGraph {
  return {
    nodes: {
      input: nir.input([1, 8, 8]),
      conv: nir.conv2d(seq(2 * 1 * 3 * 3), [2, 1, 3, 3], [8, 8], seq(2), 1, 1),
      conv_lif: nir.lifShaped([2, 8, 8], 0.02, 1),
      pool: nir.sumPool2d(2, 2),
      flat: nir.flatten([2, 4, 4], 0, -1),
      fc: nir.affine(seq(16 * 32), 16, 32, seq(16)),
      lif: nir.lif(16, 0.01, 1),
      rec: nir.linear(seq(16 * 16), 16, 16),
      fc2: nir.linear(seq(8 * 16), 8, 16),
      if: nir.if(8, 1),
      fc3: nir.affine(seq(4 * 8), 4, 8, seq(4)),
      li: nir.li(4, 0.005),
      integ: nir.integrator(4),
      thr: nir.threshold(4, 0.5),
      output: nir.output([4]),
    },
    edges: [
      ['input', 'conv'], ['conv', 'conv_lif'], ['conv_lif', 'pool'], ['pool', 'flat'], ['flat', 'fc'], ['fc', 'lif'],
      ['lif', 'rec'], ['rec', 'lif'], // recurrence
      ['lif', 'fc2'], ['fc2', 'if'], ['if', 'fc3'], ['fc3', 'li'], ['li', 'integ'], ['integ', 'thr'], ['thr', 'output'],
    ],
    metadata: { producer: 'neurodyn test' },
  };
}

const layered: LayeredNetwork = {
  family: 'layered-test',
  input: { name: 'x', size: 6 },
  populations: [
    { name: 'h', size: 5, activation: 'hard-sigmoid', bias: seq(5) },
    { name: 'o', size: 3, activation: 'hard-sigmoid', bias: seq(3) },
  ],
  projections: [
    { name: 'w1', from: 'x', to: 'h', weight: seq(30, 0.1), role: 'feedforward' },
    { name: 'w2', from: 'h', to: 'o', weight: seq(15, 0.1), role: 'feedforward' },
    { name: 'back', from: 'o', to: 'h', weight: seq(15, 0.05), role: 'feedback' },
  ],
  readout: 'o',
};

describe('NIR export', () => {
  it('writes every primitive in the reference layout: names, types, shapes and dtypes read back', async () => {
    const file = path.join(dir, 'all.nir');
    await writeNir(file, everyPrimitive());
    const g = await readNir(file);
    expect(g.version).toBe('1.0.7');
    expect(g.edges).toContainEqual(['rec', 'lif']);
    expect(Object.fromEntries(Object.entries(g.nodes).map(([k, v]) => [k, v.type]))).toEqual({
      input: 'Input', conv: 'Conv2d', conv_lif: 'LIF', pool: 'SumPool2d', flat: 'Flatten', fc: 'Affine', lif: 'LIF', rec: 'Linear', fc2: 'Linear', if: 'IF', fc3: 'Affine', li: 'LI', integ: 'I', thr: 'Threshold', output: 'Output',
    });
    const ds = (n: string, k: string) => g.nodes[n]!.datasets[k]!;
    expect(ds('input', 'shape')).toMatchObject({ dtype: '<q', shape: [3] });
    expect(ds('fc', 'weight')).toMatchObject({ dtype: '<f', shape: [16, 32] });
    expect(ds('fc', 'bias')).toMatchObject({ dtype: '<f', shape: [16] });
    expect(ds('conv', 'groups')).toMatchObject({ dtype: '<q', shape: [] });
    expect(ds('conv', 'stride')).toMatchObject({ dtype: '<q', shape: [2] });
    expect(ds('flat', 'start_dim')).toMatchObject({ dtype: '<q', shape: [] });
    expect(ds('lif', 'tau')).toMatchObject({ dtype: '<d', shape: [16] });
    expect(ds('conv_lif', 'v_threshold').shape).toEqual([2, 8, 8]);
    // Exactly the constructor's fields, nothing else (the reference reader passes them all as kwargs).
    expect(Object.keys(g.nodes.if!.datasets).sort()).toEqual(['r', 'v_reset', 'v_threshold']);
    expect(Object.keys(g.nodes.li!.datasets).sort()).toEqual(['r', 'tau', 'v_leak']);
  });

  it.runIf(referenceNirAvailable)('the reference nir.read (with its type check) reads the file and infers every shape', async () => {
    const file = path.join(dir, 'all-ref.nir');
    await writeNir(file, everyPrimitive());
    const result = runPython(`
import nir, numpy as np
g = nir.read(${JSON.stringify(file)})
out = {k: [type(n).__name__, {p: [int(x) for x in np.asarray(v).ravel()] for p, v in n.output_type.items()}] for k, n in g.nodes.items()}
print(json.dumps({"nodes": out, "edges": sorted(map(list, g.edges)), "weight": float(g.nodes["fc"].weight[1, 2])}))
`) as { nodes: Record<string, [string, Record<string, number[]>]>; edges: string[][]; weight: number };
    expect(result.nodes.pool).toEqual(['SumPool2d', { output: [2, 4, 4] }]);
    expect(result.nodes.flat).toEqual(['Flatten', { output: [32] }]);
    expect(result.nodes.integ![0]).toBe('I');
    expect(result.edges).toContainEqual(['rec', 'lif']);
    expect(result.weight).toBeCloseTo(seq(16 * 32)[1 * 32 + 2]!, 7);
  });

  it('maps the emulation network of a layered net with feedback: reset by subtraction as I + Threshold + Delay/Scale, projections from Delay nodes, weights transposed', async () => {
    const file = path.join(dir, 'layered.nir');
    const spiking = toSpikingNetwork(layered, { weightBits: 8, stateBits: 16 });
    await writeNir(file, spikingNetworkToNir(spiking));
    const g = await readNir(file);
    expect([g.nodes.h!.type, g.nodes.h_spike!.type, g.nodes.h_delay!.type, g.nodes.h_reset!.type]).toEqual(['I', 'Threshold', 'Delay', 'Scale']);
    expect(g.nodes.x_to_h!.type).toBe('Affine');
    expect(g.nodes.o_to_h!.type).toBe('Linear');
    expect(g.nodes.x_to_h!.datasets.weight!.shape).toEqual([5, 6]);
    expect(Array.from(g.nodes.h_reset!.datasets.scale!.value as Float64Array)).toEqual(new Array(5).fill(-spiking.populations[0]!.threshold));
    expect(Array.from(g.nodes.h_spike!.datasets.threshold!.value as Float64Array)).toEqual(new Array(5).fill(spiking.populations[0]!.threshold));
    expect(g.edges).toEqual(expect.arrayContaining([['o_delay', 'o_to_h'], ['o_to_h', 'h'], ['h_reset', 'h'], ['o_spike', 'output'], ['input', 'x']]));
    // The reset is the last input of its integrator (the order the emulation sums in).
    const intoH = g.edges.filter(([, b]) => b === 'h').map(([a]) => a);
    expect(intoH).toEqual(['x_to_h', 'o_to_h', 'h_reset']);
    const w = g.nodes.h_to_o!.datasets.weight!.value as Float32Array;
    const p = spiking.populations[1]!;
    // NIR weight[i][j] (out i, in j) equals the stacked [in, out] weight at (j, i).
    expect(w[2 * 5 + 4]).toBe(p.weight[4 * 3 + 2]);
    expect(g.metadata.family).toBe('layered-test');
    expect(String(g.metadata.weights)).toMatch(/8-bit signed integers/);
    if (referenceNirAvailable) {
      const ref = runPython(`
import nir
g = nir.read(${JSON.stringify(file)})
print(json.dumps({k: type(n).__name__ for k, n in g.nodes.items()}))
`) as Record<string, string>;
      expect(ref).toMatchObject({ x: 'I', x_spike: 'Threshold', x_delay: 'Delay', h_reset: 'Scale', x_to_h: 'Affine', o_to_h: 'Linear', output: 'Output' });
    }
  });

  it('reset to zero maps every neuron onto a plain IF (v_reset 0) feeding its Delay', async () => {
    const file = path.join(dir, 'layered-if.nir');
    const spiking = toSpikingNetwork(layered, { weightBits: 8, stateBits: 16 }, 'zero');
    await writeNir(file, spikingNetworkToNir(spiking));
    const g = await readNir(file);
    const types = Object.fromEntries(Object.entries(g.nodes).map(([k, v]) => [k, v.type]));
    expect(types).toEqual({ input: 'Input', x: 'IF', x_delay: 'Delay', h: 'IF', h_delay: 'Delay', o: 'IF', o_delay: 'Delay', x_to_h: 'Affine', o_to_h: 'Linear', h_to_o: 'Affine', output: 'Output' });
    expect(Array.from(g.nodes.h!.datasets.v_reset!.value as Float64Array)).toEqual([0, 0, 0, 0, 0]);
    expect(g.edges).toContainEqual(['o', 'output']);
    if (referenceNirAvailable) {
      const ref = runPython(`
import nir
g = nir.read(${JSON.stringify(file)})
print(json.dumps({k: type(n).__name__ for k, n in g.nodes.items()}))
`) as Record<string, string>;
      expect(ref).toMatchObject({ x: 'IF', h: 'IF', x_delay: 'Delay', output: 'Output' });
    }
  });

  it('names what cannot be mapped', async () => {
    expect(() => nirMappers.get('hopfield')({}, {})).toThrow(UnmappableError);
    expect(() => nirMappers.get('hopfield')({}, {})).toThrow(/tanh\(gain·u\) has no NIR primitive/);
    const signed: LayeredNetwork = { ...layered, populations: [{ name: 'h', size: 5, activation: 'tanh', gain: 2 }, layered.populations[1]!] };
    expect(() => spikingNetworkToNir(toSpikingNetwork(signed, {}, 'zero'))).toThrow(/population h uses signed \(ternary\) spikes.*--reset subtract/);
    await expect(writeNir(path.join(dir, 'bad.nir'), { nodes: { input: nir.input([2]), a: { type: 'IF', fields: { r: nir.if(2, 1).fields.r!, v_threshold: nir.if(2, 1).fields.r!, dt: 'x' } } }, edges: [['input', 'a']] })).rejects.toThrow(/IF has no field dt/);
  });
});
