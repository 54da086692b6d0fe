/**
 * A NIRData reader written from NIR's specification (neuromorphs/NIR docs/source/nirdata.md and
 * nir/data_ir/graph.py, on main since PR #175, after v1.0.7), independent of src/export: it reads the HDF5
 * with h5wasm directly and checks what the spec requires of each object.
 *
 *   root attr __type__ "NIRGraphData"; group nodes/<name> of NIRNodeData (or a nested NIRGraphData);
 *   NIRNodeData: group observables/<name>, each with attr __type__:
 *     TimeGriddedData: dataset data of shape (n_samples, n_time_steps, n_neurons), attr dt (float);
 *                      its t_max is n_time_steps · dt (sample k at time k · dt);
 *     EventData:       datasets idx (int, −1 where no event) and time (float, +inf where no event) of the
 *                      same shape (n_samples, n_events), attrs n_neurons and t_max;
 *     ValuedEventData: EventData with a dataset value.
 *   "The dictionary keys must correspond to the node keys in the associated NIRGraph."
 */
import h5wasm from 'h5wasm/node';

export interface ReadTimeGridded {
  readonly type: 'TimeGriddedData';
  readonly data: Float64Array;
  readonly shape: [number, number, number];
  readonly dt: number;
  readonly tMax: number;
}

export interface ReadEvents {
  readonly type: 'EventData' | 'ValuedEventData';
  readonly idx: number[][];
  readonly time: number[][];
  readonly nNeurons: number;
  readonly tMax: number;
}

export type ReadObservable = ReadTimeGridded | ReadEvents;
export interface ReadGraphData {
  readonly nodes: Record<string, Record<string, ReadObservable> | ReadGraphData>;
}

type Group = any;

function attr(obj: Group, name: string): unknown {
  const a = obj.attrs[name];
  if (!a) throw new Error(`missing attribute ${name} on ${obj.path}`);
  return a.value;
}

function rows(values: ArrayLike<number | bigint>, shape: number[]): number[][] {
  const [n, m] = shape as [number, number];
  return Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => Number(values[i * m + j]!)));
}

function readObservable(g: Group): ReadObservable {
  const type = attr(g, '__type__');
  if (type === 'TimeGriddedData') {
    const data = g.get('data');
    if (data.shape.length !== 3) throw new Error(`${g.path}/data must be (n_samples, n_time_steps, n_neurons), got [${data.shape}]`);
    const dt = Number(attr(g, 'dt'));
    if (!(dt > 0)) throw new Error(`${g.path}: dt must be positive, got ${dt}`);
    return { type, data: Float64Array.from(data.value as ArrayLike<number>), shape: data.shape, dt, tMax: data.shape[1] * dt };
  }
  if (type === 'EventData' || type === 'ValuedEventData') {
    const idx = g.get('idx');
    const time = g.get('time');
    if (JSON.stringify(idx.shape) !== JSON.stringify(time.shape)) throw new Error(`${g.path}: idx and time must have the same shape`);
    if (idx.shape.length !== 2) throw new Error(`${g.path}: idx must be (n_samples, n_events)`);
    const nNeurons = Number(attr(g, 'n_neurons'));
    const tMax = Number(attr(g, 't_max'));
    const i = rows(idx.value, idx.shape);
    const t = rows(time.value, time.shape);
    i.forEach((row, s) => row.forEach((n, k) => {
      const none = n === -1;
      if (none !== (t[s]![k] === Number.POSITIVE_INFINITY)) throw new Error(`${g.path}: sample ${s} event ${k}: index ${n} with time ${t[s]![k]} (−1 goes with +inf)`);
      if (!none && !(n >= 0 && n < nNeurons)) throw new Error(`${g.path}: neuron index ${n} outside 0…${nNeurons - 1}`);
      if (!none && !(t[s]![k]! >= 0 && t[s]![k]! <= tMax)) throw new Error(`${g.path}: event time ${t[s]![k]} outside [0, t_max = ${tMax}]`);
    }));
    return { type, idx: i, time: t, nNeurons, tMax };
  }
  throw new Error(`${g.path}: unknown observable type ${JSON.stringify(type)}`);
}

function readGraphData(g: Group): ReadGraphData {
  const nodes: ReadGraphData['nodes'] = {};
  const group = g.get('nodes');
  for (const name of group.keys()) {
    const node = group.get(name);
    const type = attr(node, '__type__');
    if (type === 'NIRNodeData') {
      const observables: Record<string, ReadObservable> = {};
      const obs = node.get('observables');
      for (const o of obs.keys()) observables[o] = readObservable(obs.get(o));
      nodes[name] = observables;
    } else if (type === 'NIRGraphData') nodes[name] = readGraphData(node);
    else throw new Error(`unknown node type ${JSON.stringify(type)} at ${node.path}`);
  }
  return { nodes };
}

export async function readNirData(file: string): Promise<ReadGraphData> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    if (attr(f, '__type__') !== 'NIRGraphData') throw new Error('root object is not NIRGraphData');
    return readGraphData(f);
  } finally {
    f.close();
  }
}

/** Node names of a NIR graph file (/node/nodes/<name>), as the reference `nir.read` sees them. */
export async function readNirNodeNames(file: string): Promise<string[]> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'r');
  try {
    return [...(f.get('node/nodes') as Group).keys()];
  } finally {
    f.close();
  }
}
