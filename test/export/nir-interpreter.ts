/**
 * An independent NIR interpreter for the tests: it reads a .nir HDF5 file with h5wasm (not through
 * src/export/nir.ts) and runs its nodes and edges in discrete time, from the equations of NIR's reference
 * primitives (neuromorphs/NIR v1.0.7, nir/ir/*.py and docs/source/primitives.md), integrated by forward
 * Euler with a step dt:
 *
 *   Input      y = the input at step t                  Output  y = x (recorded)
 *   Affine     y = W x + b                              Linear  y = W x
 *   Scale      y = s ⊙ x                                Delay   y(t) = x(t − delay/dt), 0 before
 *   I          v += dt·r⊙x;  y = v
 *   LI         v += dt/τ ⊙ (v_leak − v + r⊙x);  y = v
 *   Threshold  y = [x > θ]
 *   IF         v += dt·r⊙x;  z = [v > v_threshold];  v = v_reset where z;  y = z
 *   LIF        v += dt/τ ⊙ (v_leak − v + r⊙x);  z = [v > v_threshold];  v = v_reset where z;  y = z
 *
 * where x is the sum of the node's inputs (its incoming edges, added in the file's edge order). Within a
 * step the nodes run in topological order; a Delay's output is known at the start of the step, so its
 * outgoing edges do not order anything, and a cycle without a Delay is an algebraic loop and refused.
 * Arithmetic is float32 (Math.fround after every operation), the precision of the file's weights.
 * Other primitives (convolutions, pooling, Flatten, CubaLIF) are refused by name: no graph here uses them.
 */
import h5wasm from 'h5wasm/node';

interface Dataset {
  readonly value: unknown;
  readonly shape: number[] | null;
}

export interface InterpretedNode {
  readonly type: string;
  readonly params: Record<string, Float64Array>;
  readonly shapes: Record<string, number[]>;
}

export interface InterpretedGraph {
  readonly nodes: Record<string, InterpretedNode>;
  readonly edges: [string, string][];
}

const SUPPORTED = ['Input', 'Output', 'Affine', 'Linear', 'Scale', 'Delay', 'I', 'LI', 'Threshold', 'IF', 'LIF'];

export async function loadNirFile(file: string): Promise<InterpretedGraph> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'r');
  try {
    const get = (p: string) => h5.get(p) as unknown as Dataset & { keys(): string[] };
    const flat = get('node/edges').shape?.length === 2 ? (get('node/edges').value as string[]) : [];
    const edges: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) edges.push([flat[i]!, flat[i + 1]!]);
    const nodes: Record<string, InterpretedNode> = {};
    for (const name of get('node/nodes').keys()) {
      const type = String(get(`node/nodes/${name}/type`).value);
      const params: Record<string, Float64Array> = {};
      const shapes: Record<string, number[]> = {};
      for (const key of get(`node/nodes/${name}`).keys()) {
        if (key === 'type' || key === 'metadata') continue;
        const ds = get(`node/nodes/${name}/${key}`);
        const v = ds.value;
        params[key] = typeof v === 'number' || typeof v === 'bigint' ? Float64Array.of(Number(v)) : Float64Array.from(v as ArrayLike<number | bigint>, Number);
        shapes[key] = ds.shape ?? [];
      }
      nodes[name] = { type, params, shapes };
    }
    return { nodes, edges };
  } finally {
    h5.close();
  }
}

const f = Math.fround;

export interface RunResult {
  /** Per step, the output of every node whose name is asked for: [batch × size] each. */
  readonly recorded: Map<string, Float32Array>[];
  /** Largest |v| any stateful neuron or integrator reached (to see whether a state limit would bind). */
  readonly largestPotential: number;
}

/**
 * Runs `graph` for `steps` steps of `dt` on `batch` inputs given to its one Input node ([batch × size],
 * constant over time), recording the outputs of `record` at every step.
 */
export function runNir(graph: InterpretedGraph, input: Float32Array, batch: number, steps: number, record: readonly string[], dt = 1): RunResult {
  const names = Object.keys(graph.nodes);
  for (const n of names) if (!SUPPORTED.includes(graph.nodes[n]!.type)) throw new Error(`interpreter: node ${n} is a ${graph.nodes[n]!.type}, which this interpreter does not run`);
  const inputs = names.filter((n) => graph.nodes[n]!.type === 'Input');
  if (inputs.length !== 1) throw new Error(`interpreter: expected one Input node, found ${inputs.length}`);
  const incoming = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const [a, b] of graph.edges) incoming.get(b)!.push(a);
  const sizeOf = (n: string): number => {
    const node = graph.nodes[n]!;
    switch (node.type) {
      case 'Input':
      case 'Output':
        return node.params.shape!.reduce((a, b) => a * b, 1);
      case 'Affine':
      case 'Linear':
        return node.shapes.weight![0]!;
      case 'Scale':
        return node.params.scale!.length;
      case 'Delay':
        return node.params.delay!.length;
      case 'Threshold':
        return node.params.threshold!.length;
      default:
        return node.params.r!.length;
    }
  };
  // Topological order; edges leaving a Delay are known at the start of a step and order nothing.
  const order: string[] = [];
  const mark = new Map<string, 'open' | 'done'>();
  const visit = (n: string, path: string[]) => {
    if (mark.get(n) === 'done') return;
    if (mark.get(n) === 'open') throw new Error(`interpreter: algebraic loop without a Delay: ${[...path, n].join(' -> ')}`);
    mark.set(n, 'open');
    for (const src of incoming.get(n)!) if (graph.nodes[src]!.type !== 'Delay') visit(src, [...path, n]);
    mark.set(n, 'done');
    order.push(n);
  };
  for (const n of names) visit(n, []);

  const size = new Map(names.map((n) => [n, sizeOf(n)]));
  const state = new Map<string, Float32Array>();
  const delayLines = new Map<string, { lag: number; buffer: Float32Array[] }>();
  for (const n of names) {
    const node = graph.nodes[n]!;
    if (['I', 'LI', 'IF', 'LIF'].includes(node.type)) state.set(n, new Float32Array(batch * size.get(n)!));
    if (node.type === 'Delay') {
      const lags = new Set(Array.from(node.params.delay!, (d) => d / dt));
      if (lags.size !== 1) throw new Error(`interpreter: Delay ${n} has several delays; only one per node is run`);
      const lag = [...lags][0]!;
      if (!(Number.isInteger(lag) && lag >= 1)) throw new Error(`interpreter: Delay ${n} of ${lag} steps is not a positive whole number of steps`);
      delayLines.set(n, { lag, buffer: Array.from({ length: lag }, () => new Float32Array(batch * size.get(n)!)) });
    }
  }
  const recorded: Map<string, Float32Array>[] = [];
  let largestPotential = 0;
  for (let t = 1; t <= steps; t++) {
    const out = new Map<string, Float32Array>();
    for (const [n, line] of delayLines) out.set(n, line.buffer[0]!);
    const sumInputs = (n: string): Float32Array => {
      const node = graph.nodes[n]!;
      const width = node.type === 'Affine' || node.type === 'Linear' ? node.shapes.weight![1]! : size.get(n)!;
      const acc = new Float32Array(batch * width);
      for (const src of incoming.get(n)!) {
        const y = out.get(src)!;
        if (y.length !== acc.length) throw new Error(`interpreter: edge ${src} -> ${n} carries ${y.length / batch} values into ${acc.length / batch}`);
        for (let k = 0; k < acc.length; k++) acc[k] = f(acc[k]! + y[k]!);
      }
      return acc;
    };
    for (const n of order) {
      const node = graph.nodes[n]!;
      if (node.type === 'Delay') continue;
      const m = size.get(n)!;
      const P = node.params;
      if (node.type === 'Input') {
        if (input.length !== batch * m) throw new Error(`interpreter: input has ${input.length} values, not ${batch}×${m}`);
        out.set(n, input);
        continue;
      }
      const x = sumInputs(n);
      const y = new Float32Array(batch * m);
      switch (node.type) {
        case 'Output':
          y.set(x);
          break;
        case 'Affine':
        case 'Linear': {
          const cols = node.shapes.weight![1]!;
          const W = P.weight!;
          for (let b = 0; b < batch; b++) {
            for (let i = 0; i < m; i++) {
              let acc = 0;
              for (let j = 0; j < cols; j++) acc = f(acc + f(W[i * cols + j]! * x[b * cols + j]!));
              y[b * m + i] = node.type === 'Affine' ? f(acc + P.bias![i]!) : acc;
            }
          }
          break;
        }
        case 'Scale':
          for (let k = 0; k < y.length; k++) y[k] = f(P.scale![k % m]! * x[k]!);
          break;
        case 'Threshold':
          for (let k = 0; k < y.length; k++) y[k] = x[k]! > P.threshold![k % m]! ? 1 : 0;
          break;
        default: {
          // I, LI, IF, LIF.
          const v = state.get(n)!;
          const leaky = node.type === 'LI' || node.type === 'LIF';
          const spiking = node.type === 'IF' || node.type === 'LIF';
          for (let k = 0; k < v.length; k++) {
            const i = k % m;
            const drive = f(P.r![i]! * x[k]!);
            v[k] = leaky ? f(v[k]! + f(f(dt / P.tau![i]!) * f(f(P.v_leak![i]! - v[k]!) + drive))) : f(v[k]! + f(dt * drive));
            largestPotential = Math.max(largestPotential, Math.abs(v[k]!));
            if (spiking) {
              const z = v[k]! > P.v_threshold![i]! ? 1 : 0;
              if (z) v[k] = f(P.v_reset![i]!);
              y[k] = z;
            } else y[k] = v[k]!;
          }
        }
      }
      out.set(n, y);
    }
    // Delay lines take this step's inputs.
    for (const [n, line] of delayLines) {
      line.buffer.shift();
      line.buffer.push(sumInputs(n));
    }
    recorded.push(new Map(record.map((r) => [r, out.get(r)!])));
  }
  return { recorded, largestPotential };
}
