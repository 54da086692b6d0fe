/**
 * NIR graphs (Pedersen et al., "Neuromorphic intermediate representation: a unified instruction set for
 * interoperable brain-inspired computing", Nature Communications 15:8122, 2024), written as HDF5 with the
 * layout of the reference `nir.write` (neuromorphs/NIR, nir/serialization.py):
 *
 *   /version            scalar vlen UTF-8 string
 *   /node/type          "NIRGraph"
 *   /node/edges         (E, 2) vlen UTF-8 strings [[source, target], ...]
 *   /node/metadata/     optional; one dataset per entry
 *   /node/nodes/<name>/ type + the primitive's fields, one dataset each (table FIELDS below)
 *
 * The reference reader passes every dataset of a node (except `type` and `metadata`) to the primitive's
 * constructor, so a node must hold exactly its fields: required ones present, nothing extra. Arrays keep
 * float32 (weights) or float64 (neuron parameters, as numpy defaults); integer fields are int64. No HDF5
 * attributes and no compression are used (the reader ignores both).
 *
 * Semantics are NIR's continuous-time ODEs: LIF τ dv/dt = (v_leak − v) + R·I, IF dv/dt = R·I, LI without
 * spikes, I (integrator) dv/dt = R·I; spiking neurons reset to v_reset when v > v_threshold; Threshold
 * z = [x > θ]; Scale y = s ⊙ x; Delay y(t) = x(t − τ).
 */
import { SpecError } from '../base/errors.js';
import { float64, int64, openHdf5, writeArray, writeHdf5, writeString, type Hdf5Group, type NumericArray } from './hdf5.js';

/** The NIR version whose layout this writes (nir/ir/* is identical from v1.0.7 to the 2026 HEAD). */
export const NIR_VERSION = '1.0.7';

export type NirValue = NumericArray | string;

export interface NirNode {
  readonly type: NirType;
  readonly fields: Readonly<Record<string, NirValue>>;
  readonly metadata?: Readonly<Record<string, NirValue>>;
}

export interface NirGraph {
  readonly nodes: Readonly<Record<string, NirNode>>;
  readonly edges: readonly (readonly [string, string])[];
  readonly metadata?: Readonly<Record<string, NirValue>>;
}

/** Required and optional fields of each primitive, as the reference dataclasses declare them. */
export const FIELDS = {
  Input: { required: ['shape'], optional: [] },
  Output: { required: ['shape'], optional: [] },
  Affine: { required: ['weight', 'bias'], optional: [] },
  Linear: { required: ['weight'], optional: [] },
  Conv2d: { required: ['input_shape', 'weight', 'stride', 'padding', 'dilation', 'groups', 'bias'], optional: [] },
  SumPool2d: { required: ['kernel_size', 'stride', 'padding'], optional: [] },
  Flatten: { required: ['start_dim', 'end_dim', 'input_type'], optional: [] },
  LIF: { required: ['tau', 'r', 'v_leak', 'v_threshold'], optional: ['v_reset'] },
  IF: { required: ['r', 'v_threshold'], optional: ['v_reset'] },
  LI: { required: ['tau', 'r', 'v_leak'], optional: [] },
  I: { required: ['r'], optional: [] },
  Threshold: { required: ['threshold'], optional: [] },
  Scale: { required: ['scale'], optional: [] },
  Delay: { required: ['delay'], optional: [] },
  CubaLIF: { required: ['tau_syn', 'tau_mem', 'r', 'v_leak', 'v_threshold', 'w_in'], optional: ['v_reset'] },
} as const;
export type NirType = keyof typeof FIELDS;

const ones = (n: number) => float64(new Array<number>(n).fill(1));
const zeros = (n: number) => float64(new Array<number>(n).fill(0));
const filled = (n: number, v: number | ArrayLike<number>) => (typeof v === 'number' ? float64(new Array<number>(n).fill(v)) : float64(v));

/** Constructors of the primitives neurodyn writes; shapes are checked here so a bad graph fails early. */
export const nir = {
  input: (shape: readonly number[]): NirNode => ({ type: 'Input', fields: { shape: int64(shape) } }),
  output: (shape: readonly number[]): NirNode => ({ type: 'Output', fields: { shape: int64(shape) } }),
  /** weight [out, in] row-major. */
  affine: (weight: Float32Array, out: number, inSize: number, bias: Float32Array): NirNode => {
    if (weight.length !== out * inSize || bias.length !== out) throw new SpecError('nir.Affine', `weight ${weight.length} / bias ${bias.length} do not match ${out}x${inSize}`);
    return { type: 'Affine', fields: { weight: { data: weight, shape: [out, inSize] }, bias: { data: bias, shape: [out] } } };
  },
  linear: (weight: Float32Array, out: number, inSize: number): NirNode => {
    if (weight.length !== out * inSize) throw new SpecError('nir.Linear', `weight has ${weight.length} values, not ${out}x${inSize}`);
    return { type: 'Linear', fields: { weight: { data: weight, shape: [out, inSize] } } };
  },
  if: (n: number, threshold: number | ArrayLike<number>, r: number | ArrayLike<number> = 1): NirNode => ({ type: 'IF', fields: { r: filled(n, r), v_threshold: filled(n, threshold), v_reset: zeros(n) } }),
  lif: (n: number, tau: number, threshold: number, r = 1, vLeak = 0): NirNode => ({ type: 'LIF', fields: { tau: filled(n, tau), r: filled(n, r), v_leak: filled(n, vLeak), v_threshold: filled(n, threshold), v_reset: zeros(n) } }),
  /** An LIF population shaped like a feature map ([C, H, W]), as after a convolution. */
  lifShaped: (shape: readonly number[], tau: number, threshold: number): NirNode => {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = (v: number) => ({ data: new Float64Array(n).fill(v), shape });
    return { type: 'LIF', fields: { tau: f(tau), r: f(1), v_leak: f(0), v_threshold: f(threshold), v_reset: f(0) } };
  },
  li: (n: number, tau: number, r = 1, vLeak = 0): NirNode => ({ type: 'LI', fields: { tau: filled(n, tau), r: filled(n, r), v_leak: filled(n, vLeak) } }),
  integrator: (n: number, r = 1): NirNode => ({ type: 'I', fields: { r: filled(n, r) } }),
  threshold: (n: number, threshold: number | ArrayLike<number>): NirNode => ({ type: 'Threshold', fields: { threshold: filled(n, threshold) } }),
  /** y = s ⊙ x. */
  scale: (n: number, scale: number | ArrayLike<number>): NirNode => ({ type: 'Scale', fields: { scale: filled(n, scale) } }),
  /** y(t) = x(t − delay), per element, in the graph's time unit. */
  delay: (n: number, delay: number): NirNode => ({ type: 'Delay', fields: { delay: filled(n, delay) } }),
  cubaLif: (n: number, tauSyn: number, tauMem: number, threshold: number): NirNode => ({
    type: 'CubaLIF',
    fields: { tau_syn: filled(n, tauSyn), tau_mem: filled(n, tauMem), r: ones(n), v_leak: zeros(n), v_threshold: filled(n, threshold), v_reset: zeros(n), w_in: ones(n) },
  }),
  /** weight [Cout, Cin/groups, Kh, Kw]; input_shape [H, W]. */
  conv2d: (weight: Float32Array, shape: readonly [number, number, number, number], inputShape: readonly [number, number], bias: Float32Array, stride = 1, padding = 0, dilation = 1, groups = 1): NirNode => ({
    type: 'Conv2d',
    fields: {
      input_shape: int64(inputShape),
      weight: { data: weight, shape },
      stride: int64([stride, stride]),
      padding: int64([padding, padding]),
      dilation: int64([dilation, dilation]),
      groups: int64([groups], []),
      bias: { data: bias, shape: [shape[0]] },
    },
  }),
  sumPool2d: (kernel: number, stride: number, padding = 0): NirNode => ({ type: 'SumPool2d', fields: { kernel_size: int64([kernel, kernel]), stride: int64([stride, stride]), padding: int64([padding, padding]) } }),
  /** Flattens dims start..end of the input (batch excluded); `inputShape` is the raw input shape, e.g. [C, H, W]. */
  flatten: (inputShape: readonly number[], startDim = 0, endDim = -1): NirNode => ({ type: 'Flatten', fields: { start_dim: int64([startDim], []), end_dim: int64([endDim], []), input_type: int64(inputShape) } }),
};

/** Checks node fields against the reference dataclasses and edges against node names. */
export function checkGraph(graph: NirGraph): void {
  for (const [name, node] of Object.entries(graph.nodes)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new SpecError(`nir.nodes.${name}`, 'node names may hold letters, digits, _, . and - only');
    const spec = FIELDS[node.type];
    if (!spec) throw new SpecError(`nir.nodes.${name}.type`, `unknown NIR primitive ${JSON.stringify(node.type)}; known: ${Object.keys(FIELDS).join(', ')}`);
    const allowed = new Set<string>([...spec.required, ...spec.optional]);
    for (const key of Object.keys(node.fields)) if (!allowed.has(key)) throw new SpecError(`nir.nodes.${name}.${key}`, `${node.type} has no field ${key} (the reference reader would fail); fields: ${[...allowed].join(', ')}`);
    for (const key of spec.required) if (!(key in node.fields)) throw new SpecError(`nir.nodes.${name}`, `${node.type} needs ${key}`);
  }
  for (const [a, b] of graph.edges) {
    for (const end of [a, b]) if (!(end in graph.nodes)) throw new SpecError('nir.edges', `edge ${a} -> ${b} names ${end}, which is not a node`);
  }
  if (!Object.values(graph.nodes).some((n) => n.type === 'Input')) throw new SpecError('nir.nodes', 'a graph needs at least one Input node');
}

function writeValue(group: Hdf5Group, name: string, value: NirValue): void {
  if (typeof value === 'string') writeString(group, name, value);
  else writeArray(group, name, value);
}

/** Writes `graph` to `file` in the reference layout. */
export async function writeNir(file: string, graph: NirGraph): Promise<void> {
  checkGraph(graph);
  await writeHdf5(file, (root) => {
    writeString(root as unknown as Hdf5Group, 'version', NIR_VERSION);
    const top = root.create_group('node');
    writeString(top, 'type', 'NIRGraph');
    if (graph.edges.length > 0) top.create_dataset({ name: 'edges', data: graph.edges.flat() as string[], shape: [graph.edges.length, 2] });
    else writeArray(top, 'edges', { data: new Float64Array(0), shape: [0] });
    if (graph.metadata && Object.keys(graph.metadata).length > 0) {
      const meta = top.create_group('metadata');
      for (const [k, v] of Object.entries(graph.metadata)) writeValue(meta, k, v);
    }
    const nodes = top.create_group('nodes');
    for (const [name, node] of Object.entries(graph.nodes)) {
      const g = nodes.create_group(name);
      writeString(g, 'type', node.type);
      for (const [k, v] of Object.entries(node.fields)) writeValue(g, k, v);
      if (node.metadata && Object.keys(node.metadata).length > 0) {
        const meta = g.create_group('metadata');
        for (const [k, v] of Object.entries(node.metadata)) writeValue(meta, k, v);
      }
    }
  });
}

export interface NirDatasetInfo {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly value: unknown;
}

/** Reads a NIR file back as the reader sees it: version, edges, and per node its type and datasets. */
export async function readNir(file: string): Promise<{ version: string; edges: [string, string][]; nodes: Record<string, { type: string; datasets: Record<string, NirDatasetInfo> }>; metadata: Record<string, unknown> }> {
  const h5 = await openHdf5(file);
  try {
    const get = (p: string) => h5.get(p) as unknown as { dtype: string; shape: number[] | null; value: unknown; keys?: () => string[] };
    const version = String(get('version').value);
    const edgesDs = get('node/edges');
    const flat = (edgesDs.shape?.length === 2 ? (edgesDs.value as string[]) : []) ?? [];
    const edges: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) edges.push([flat[i]!, flat[i + 1]!]);
    const nodes: Record<string, { type: string; datasets: Record<string, NirDatasetInfo> }> = {};
    const nodesGroup = h5.get('node/nodes') as unknown as { keys(): string[] };
    for (const name of nodesGroup.keys()) {
      const g = h5.get(`node/nodes/${name}`) as unknown as { keys(): string[] };
      const datasets: Record<string, NirDatasetInfo> = {};
      let type = '';
      for (const key of g.keys()) {
        if (key === 'metadata') continue;
        const ds = get(`node/nodes/${name}/${key}`);
        if (key === 'type') type = String(ds.value);
        else datasets[key] = { dtype: String(ds.dtype), shape: ds.shape ?? [], value: ds.value };
      }
      nodes[name] = { type, datasets };
    }
    const metadata: Record<string, unknown> = {};
    const top = h5.get('node') as unknown as { keys(): string[] };
    if (top.keys().includes('metadata')) {
      const meta = h5.get('node/metadata') as unknown as { keys(): string[] };
      for (const k of meta.keys()) metadata[k] = get(`node/metadata/${k}`).value;
    }
    return { version, edges, nodes, metadata };
  } finally {
    h5.close();
  }
}
