/**
 * A model the live view can relax, built from a manifest and its parameter tensors, in the page (tfjs
 * WebGL) or in Node (wasm) alike: the family's own system from the registry, how a test image becomes the
 * system's input (the same as the family's attack adapter in src/attacks/models/), which state variables
 * are drawn as images, and how the readout becomes class scores. Families without an entry here cannot be
 * viewed; `viewableKinds` lists those that can.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../../base/errors.js';
import { integrators } from '../../core/integrators/index.js';
import type { Integrator } from '../../core/integrators/integrator.js';
import type { DynamicalSystem } from '../../core/system.js';
import { headLogits, type HeadSpec } from '../../families/lca/lcanet-head.js';
import { SYSTEM_ENTRIES } from '../../families/system-entries.js';
import type { EquilibriumNetwork } from '../../families/equilibrium-prop/system.js';
import type { LcaSystem } from '../../families/lca/system.js';
import type { ViewManifest } from './manifest.js';

/** The system entry of a kind (browser-safe: no job or registry code comes with it). */
function systemEntry(kind: string) {
  const entry = SYSTEM_ENTRIES[kind];
  if (!entry) throw new DataError(`the live view cannot build system ${JSON.stringify(kind)}; known: ${Object.keys(SYSTEM_ENTRIES).join(', ')}`);
  return entry;
}

export interface Panel {
  /** State path read by a probe ('layers.0', 'a', 'u'). */
  readonly variable: string;
  readonly label: string;
  /** How the recorded value (one example) becomes a 2-D image: its [height, width] after `reduce`. */
  readonly height: number;
  readonly width: number;
  /** Features per pixel to take the largest of (a convolutional code [H, W, K] shown as its max over K). */
  readonly maxOver?: number;
}

export interface ViewModel {
  readonly kind: string;
  readonly system: DynamicalSystem<any, any, any>;
  readonly params: Record<string, tf.Tensor>;
  readonly integrator?: Integrator;
  readonly dt: number;
  readonly maxSteps: number;
  readonly panels: readonly Panel[];
  /** The system's input for one image [1, n] (the caller disposes what it returns). */
  input(x: tf.Tensor2D): Record<string, tf.Tensor>;
  /** Class scores [1, classes] from the readout, or undefined for a model that does not classify. */
  scores?(readout: tf.Tensor): tf.Tensor;
  /** Tensors the model owns besides `params` (freed by dispose). */
  dispose(): void;
}

/** A near-square grid for n units (rows × columns with rows · columns ≥ n). */
export function gridFor(n: number): { height: number; width: number } {
  const width = Math.ceil(Math.sqrt(n));
  return { height: Math.ceil(n / width), width };
}

type Factory = (manifest: ViewManifest, params: Record<string, tf.Tensor>) => Omit<ViewModel, 'kind' | 'dt' | 'maxSteps' | 'integrator' | 'dispose'> & { owned?: tf.Tensor[] };

const need = (params: Record<string, tf.Tensor>, names: readonly string[], kind: string) => {
  const missing = names.filter((n) => !params[n]);
  if (missing.length) throw new DataError(`the ${kind} model lacks parameters ${missing.join(', ')}`);
};

const FACTORIES: Readonly<Record<string, Factory>> = {
  'equilibrium-prop': (m, params) => {
    const { kind, ...options } = m.system;
    const n = m.imageShape[0] * m.imageShape[1];
    const system = systemEntry(kind).create(options, { inputSize: n }) as EquilibriumNetwork;
    need(params, system.paramNames, kind);
    // The layers that relax: every one after the input, but the output when a softmax readout replaces it.
    const layers = options.layers as number[];
    const widths = options.output === 'softmax-ce' ? layers.slice(0, -1) : layers;
    const panels = widths.map((w, i) => ({ variable: `layers.${i}`, label: `layer ${i + 1} (${w} units)`, ...gridFor(w) }));
    return {
      system,
      params,
      panels,
      input: (x) => system.prepare({ x }, params) as unknown as Record<string, tf.Tensor>,
      scores: (readout) => readout,
    };
  },
  lca: (m, params) => {
    const { kind, ...options } = m.system;
    const n = m.imageShape[0] * m.imageShape[1];
    const system = systemEntry(kind).create(options, { inputSize: n }) as LcaSystem;
    need(params, ['dictionary'], kind);
    const k = options.features as number;
    const own = { dictionary: params.dictionary! };
    // The 'gram' form steps on b and G made once per relaxation, as the job does.
    return { system, params: own, panels: [{ variable: 'a', label: `code a (${k} atoms)`, ...gridFor(k) }], input: (x) => system.prepare({ x }, own) as unknown as Record<string, tf.Tensor> };
  },
  'lca-conv': (m, params) => {
    const { kind, ...options } = m.system;
    const system = systemEntry(kind).create(options, { inputSize: m.imageShape[0] * m.imageShape[1] });
    need(params, ['lca.dictionary'], kind);
    const { 'lca.dictionary': dictionary, ...head } = params;
    const headSpec = m.head as HeadSpec | undefined;
    const [h, w, k] = headSpec?.inputShape ?? [Math.ceil(m.imageShape[0] / Number(options.stride ?? 1)), Math.ceil(m.imageShape[1] / Number(options.stride ?? 1)), Number(options.features)];
    return {
      system,
      params: { dictionary: dictionary! },
      panels: [{ variable: 'a', label: `code a, largest over ${k} atoms at each position`, height: h, width: w, maxOver: k }],
      input: (x) => ({ x: tf.reshape(x, [1, m.imageShape[0], m.imageShape[1], 1]) }),
      ...(headSpec ? { scores: (code: tf.Tensor) => headLogits(headSpec, head, code) } : {}),
      owned: Object.values(head),
    };
  },
  hopfield: (m, params) => {
    const { kind, ...options } = m.system;
    const n = m.imageShape[0] * m.imageShape[1];
    const system = systemEntry(kind).create(options, { inputSize: n });
    need(params, ['weights', 'bias', 'prototypes'], kind);
    const { prototypes, ...own } = params;
    return {
      system,
      params: own,
      panels: [{ variable: 'u', label: 'potentials u', height: m.imageShape[0], width: m.imageShape[1] }],
      input: (x) => ({ cue: tf.sub(tf.mul(x, 2), 1) }),
      // As the attack adapter: overlaps with the stored prototypes, scaled to logits.
      scores: (u) => tf.mul(tf.matMul(tf.tanh(u) as tf.Tensor2D, prototypes as tf.Tensor2D, false, true), 10 / n),
      owned: [prototypes!],
    };
  },
};

export const viewableKinds = Object.keys(FACTORIES);

/** Builds the view model; takes ownership of `params`. */
export function viewModel(manifest: ViewManifest, params: Record<string, tf.Tensor>): ViewModel {
  const factory = FACTORIES[manifest.system.kind];
  if (!factory) throw new DataError(`the live view cannot show ${manifest.system.kind} models; it shows ${viewableKinds.join(', ')}`);
  const built = factory(manifest, params);
  const { owned, ...model } = built;
  const used = new Set([...Object.values(model.params), ...(owned ?? [])]);
  const unused = Object.values(params).filter((t) => !used.has(t));
  return {
    kind: manifest.system.kind,
    ...model,
    ...(manifest.run.integrator ? { integrator: integrators.get(manifest.run.integrator, 'run.integrator') } : {}),
    dt: manifest.run.dt,
    maxSteps: manifest.run.maxSteps,
    dispose: () => tf.dispose([...Object.values(model.params), ...(owned ?? []), ...unused]),
  };
}
