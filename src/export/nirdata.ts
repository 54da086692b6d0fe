/**
 * NIRData HDF5 files: recorded activity aligned to the nodes of a NIR graph, in the layout of the
 * reference `nir.write_data` / `nir.read_data` (neuromorphs/NIR, nir/serialization.py, after v1.0.7):
 *
 *   / attr __type__ = "NIRGraphData"
 *   /nodes/<node>/ attr __type__ = "NIRNodeData"
 *   /nodes/<node>/observables/<name>/ attr __type__ = "TimeGriddedData", dataset data (samples, steps, neurons), attr dt
 *                                     attr __type__ = "EventData", datasets idx (samples, events) int64 padded
 *                                     with −1 and time (samples, events) float64 padded with +inf, attrs
 *                                     n_neurons, t_max
 *
 * Attributes are variable-length strings (the reader compares them with `==` to Python str) and float64/
 * int64 numbers.
 */
import type { Hdf5Group } from './hdf5.js';
import { writeArray, writeHdf5 } from './hdf5.js';

export interface TimeGridded {
  readonly kind: 'time-gridded';
  /** [samples × steps × neurons], row-major. */
  readonly data: Float32Array | Uint8Array;
  readonly shape: readonly [number, number, number];
  readonly dt: number;
}

export interface Events {
  readonly kind: 'events';
  readonly idx: BigInt64Array;
  readonly time: Float64Array;
  /** [samples, events per sample (padded)]. */
  readonly shape: readonly [number, number];
  readonly neurons: number;
  readonly tMax: number;
}

export type Observable = TimeGridded | Events;

/** node name → observable name → data. */
export type GraphData = Readonly<Record<string, Readonly<Record<string, Observable>>>>;

/** Binary spikes on a time grid [samples, steps, neurons] → padded event lists (time = step · dt). */
export function spikesToEvents(spikes: TimeGridded): Events {
  const [samples, steps, neurons] = spikes.shape;
  const lists: { idx: number[]; time: number[] }[] = [];
  for (let s = 0; s < samples; s++) {
    const idx: number[] = [];
    const time: number[] = [];
    for (let t = 0; t < steps; t++) {
      for (let n = 0; n < neurons; n++) {
        if (spikes.data[(s * steps + t) * neurons + n] !== 0) {
          idx.push(n);
          time.push(t * spikes.dt);
        }
      }
    }
    lists.push({ idx, time });
  }
  const width = Math.max(0, ...lists.map((l) => l.idx.length));
  const idx = new BigInt64Array(samples * width).fill(-1n);
  const time = new Float64Array(samples * width).fill(Number.POSITIVE_INFINITY);
  lists.forEach((l, s) => {
    l.idx.forEach((v, k) => {
      idx[s * width + k] = BigInt(v);
      time[s * width + k] = l.time[k]!;
    });
  });
  return { kind: 'events', idx, time, shape: [samples, width], neurons, tMax: steps * spikes.dt };
}

function attribute(group: Hdf5Group, name: string, value: string | number, dtype?: string): void {
  group.create_attribute(name, value, null, dtype ?? null);
}

export async function writeNirData(file: string, data: GraphData): Promise<void> {
  await writeHdf5(file, (root) => {
    attribute(root as unknown as Hdf5Group, '__type__', 'NIRGraphData');
    const nodes = root.create_group('nodes');
    for (const [node, observables] of Object.entries(data)) {
      const g = nodes.create_group(node);
      attribute(g, '__type__', 'NIRNodeData');
      const obs = g.create_group('observables');
      for (const [name, o] of Object.entries(observables)) {
        const og = obs.create_group(name);
        if (o.kind === 'time-gridded') {
          attribute(og, '__type__', 'TimeGriddedData');
          writeArray(og, 'data', { data: o.data, shape: o.shape });
          attribute(og, 'dt', o.dt, '<d');
        } else {
          attribute(og, '__type__', 'EventData');
          writeArray(og, 'idx', { data: o.idx, shape: o.shape });
          writeArray(og, 'time', { data: o.time, shape: o.shape });
          attribute(og, 'n_neurons', o.neurons, '<q');
          attribute(og, 't_max', o.tMax, '<d');
        }
      }
    }
  });
}
