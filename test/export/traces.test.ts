import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openHdf5 } from '../../src/export/hdf5.js';
import { spikesToEvents, writeNirData, type TimeGridded } from '../../src/export/nirdata.js';
import { decodeNpz, encodeNpz } from '../../src/export/npz.js';
import { numpyAvailable, referenceNirAvailable, runPython } from './reference-reader.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traces-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// 2 samples, 5 steps, 3 neurons; sample 0 spikes at (t1,n0) (t3,n2); sample 1 at (t0,n1) (t2,n1) (t4,n0).
const grid = new Uint8Array(2 * 5 * 3);
for (const [s, t, n] of [[0, 1, 0], [0, 3, 2], [1, 0, 1], [1, 2, 1], [1, 4, 0]] as const) grid[(s * 5 + t) * 3 + n] = 1;
const spikes: TimeGridded = { kind: 'time-gridded', data: grid, shape: [2, 5, 3], dt: 0.001 };

describe('NIRData HDF5 traces', () => {
  it('spikes on a grid become padded event lists (idx −1, time +inf)', () => {
    const e = spikesToEvents(spikes);
    expect(e.shape).toEqual([2, 3]);
    expect(Array.from(e.idx, Number)).toEqual([0, 2, -1, 1, 1, 0]);
    expect(Array.from(e.time)).toEqual([0.001, 0.003, Infinity, 0, 0.002, 0.004]);
    expect(e.tMax).toBeCloseTo(0.005, 12);
  });

  it('writes the reference layout: __type__ attributes as strings, datasets with shapes and dtypes', async () => {
    const file = path.join(dir, 'traces.h5');
    await writeNirData(file, { h: { spikes, events: spikesToEvents(spikes) } });
    const h5 = await openHdf5(file);
    try {
      expect(h5.attrs.__type__!.value).toBe('NIRGraphData');
      expect((h5.get('nodes/h') as any).attrs.__type__.value).toBe('NIRNodeData');
      const gridded = h5.get('nodes/h/observables/spikes') as any;
      expect(gridded.attrs.__type__.value).toBe('TimeGriddedData');
      expect(gridded.attrs.dt.value).toBeCloseTo(0.001, 15);
      expect((h5.get('nodes/h/observables/spikes/data') as any).shape).toEqual([2, 5, 3]);
      const idx = h5.get('nodes/h/observables/events/idx') as any;
      expect([idx.dtype, idx.shape]).toEqual(['<q', [2, 3]]);
      expect((h5.get('nodes/h/observables/events/time') as any).dtype).toBe('<d');
    } finally {
      h5.close();
    }
  });

  it.runIf(referenceNirAvailable)('the reference nir.read_data reads it', async () => {
    const file = path.join(dir, 'traces-ref.h5');
    await writeNirData(file, { h: { spikes, events: spikesToEvents(spikes) } });
    const r = runPython(`
import nir
d = nir.read_data(${JSON.stringify(file)})
o = d.nodes["h"].observables
print(json.dumps({"grid": list(o["spikes"].data.shape), "dt": o["spikes"].dt, "n": o["events"].n_neurons, "t_max": o["events"].t_max, "idx": o["events"].idx.tolist(), "sum": int(o["spikes"].data.sum())}))
`) as { grid: number[]; dt: number; n: number; t_max: number; idx: number[][]; sum: number };
    expect(r).toMatchObject({ grid: [2, 5, 3], dt: 0.001, n: 3, idx: [[0, 2, -1], [1, 1, 0]], sum: 5 });
    expect(r.t_max).toBeCloseTo(0.005, 12);
  });
});

describe('.npz archives', () => {
  const members = {
    spikes: { data: Float32Array.from(grid), shape: [2, 5, 3] },
    idx: { data: Int32Array.from([0, 2, -1, 1, 1, 0]), shape: [2, 3] },
    dt: { data: Float64Array.from([0.001]), shape: [] },
  };

  it('round-trips names, shapes, dtypes and values, compressed and stored', () => {
    for (const compress of [true, false]) {
      const back = decodeNpz(encodeNpz(members, compress));
      expect(Object.keys(back).sort()).toEqual(['dt', 'idx', 'spikes']);
      expect(back.spikes).toMatchObject({ dtype: 'float32', shape: [2, 5, 3] });
      expect(Array.from(back.spikes!.data)).toEqual(Array.from(grid));
      expect(back.idx).toMatchObject({ dtype: 'int32', shape: [2, 3] });
      expect(back.dt!.shape).toEqual([]);
    }
  });

  it.runIf(numpyAvailable)('numpy.load reads it', () => {
    const file = path.join(dir, 'traces.npz');
    fs.writeFileSync(file, encodeNpz(members));
    const out = execFileSync('/usr/bin/python3', ['-c', `
import numpy as np, json
z = np.load(${JSON.stringify(file)}, allow_pickle=False)
print(json.dumps({k: [str(z[k].dtype), list(z[k].shape), float(z[k].sum())] for k in sorted(z.files)}))
`], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ dt: ['float64', [], 0.001], idx: ['int32', [2, 3], 3], spikes: ['float32', [2, 5, 3], 5] });
  });
});
