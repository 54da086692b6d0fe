/**
 * The neural representational-similarity regularizer of Li et al. (NeurIPS 2019, Eqs. 7–10):
 *
 *   L = L_task + α · mean_{i≠j} [atanh(S^model_ij) − atanh(S^target_ij)]²,
 *   S^model = Σ_k γ_k S^(k),   γ = softmax(g),
 *
 * where S^(k) is the centred cosine similarity (similarity.ts) of the features of layer k for a block of
 * regularisation stimuli, S^target the fixed target matrix restricted to the same stimuli, and g the
 * trainable layer logits, initially 0 (equal weights), learned with the network (the paper's Supplementary
 * Table 1: γ collapses onto one layer). |S| is clamped below 1 before atanh.
 *
 * Model-agnostic: a model plugs in as a `LayerFeatures` function of (params, x) returning the feature
 * tensors ([n, …]) of the layers to compare, so a CNN, CNN-F's feed-forward pass, the predictive-coding
 * backbone or an LCANet head can all be regularized. The γ logits live in the parameter map under
 * `GAMMA_PARAM`, so the optimizer moves them like any weight.
 *
 * Pure: the running means of the `running-channel-mean` centring are a `RegularizerState` passed in and
 * returned, never kept here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SpecError } from '../../base/errors.js';
import type { ParamMap } from '../optimizers.js';
import { centredCosine, DEFAULT_CLAMP, fisherZLoss, runningCentredCosine, type Centring, type RunningMeans } from './similarity.js';

/** Feature tensors ([n, …] each) of the layers whose similarity is matched, for inputs x. */
export type LayerFeatures = (params: ParamMap, x: tf.Tensor) => readonly tf.Tensor[];

/** Name of the trainable layer logits g (γ = softmax(g)) in a parameter map. */
export const GAMMA_PARAM = 'similarity.gamma_logits';

export interface SimilarityRegularizerOptions {
  /** α, the weight of the similarity loss (Li: 20 in the main text; 0 turns the regularizer off). */
  readonly alpha: number;
  readonly centring?: Centring;
  /** Margin of the clamp |S| ≤ 1 − clamp (default 1e-5, the descendant code's ε). */
  readonly clamp?: number;
  /** EMA factor β of the running channel mean (default 0.9). */
  readonly beta?: number;
  /** Train the layer weights γ (default true); false keeps them equal. */
  readonly learnGamma?: boolean;
}

export interface RegularizerState {
  /** Per layer, the running channel mean (running-channel-mean centring only). */
  readonly running: RunningMeans;
}

export interface SimilarityRegularizer {
  readonly options: Required<SimilarityRegularizerOptions>;
  /** Equal initial weights: logits 0 for `layers` layers. */
  initGamma(layers: number): tf.Tensor1D;
  initState(): RegularizerState;
  /** γ = softmax(g) from a parameter map (equal weights when it holds none). */
  gamma(params: ParamMap, layers: number): tf.Tensor1D;
  /** S^model of the stimuli x: Σ_k γ_k S^(k), and the per-layer matrices, and the next state. */
  similarity(params: ParamMap, features: LayerFeatures, x: tf.Tensor, state: RegularizerState): { similarity: tf.Tensor2D; layers: tf.Tensor2D[]; state: RegularizerState };
  /** α · the Fisher-z loss against the target block (n × n for the n stimuli of x), and the next state. */
  loss(params: ParamMap, features: LayerFeatures, x: tf.Tensor, target: tf.Tensor2D, state: RegularizerState): { loss: tf.Scalar; similarityLoss: tf.Scalar; state: RegularizerState };
}

export function similarityRegularizer(options: SimilarityRegularizerOptions): SimilarityRegularizer {
  const o: Required<SimilarityRegularizerOptions> = Object.freeze({
    alpha: options.alpha,
    centring: options.centring ?? 'stimulus-mean',
    clamp: options.clamp ?? DEFAULT_CLAMP,
    beta: options.beta ?? 0.9,
    learnGamma: options.learnGamma ?? true,
  });
  if (!(o.alpha >= 0)) throw new SpecError('alpha', `must be ≥ 0, got ${o.alpha}`);
  if (!(o.clamp > 0 && o.clamp < 1)) throw new SpecError('clamp', `must lie in (0, 1), got ${o.clamp}`);
  if (!(o.beta >= 0 && o.beta < 1)) throw new SpecError('beta', `must lie in [0, 1), got ${o.beta}`);
  const gamma = (params: ParamMap, layers: number): tf.Tensor1D => {
    const logits = params[GAMMA_PARAM];
    if (!logits) return tf.fill([layers], 1 / layers) as tf.Tensor1D;
    if (logits.size !== layers) throw new SpecError(GAMMA_PARAM, `holds ${logits.size} layer logits but the feature function returns ${layers} layers`);
    // With learnGamma false the caller leaves GAMMA_PARAM out of what the optimizer moves.
    return tf.softmax(logits) as tf.Tensor1D;
  };
  const similarity: SimilarityRegularizer['similarity'] = (params, features, x, state) => {
    const maps = features(params, x);
    if (maps.length === 0) throw new SpecError('features', 'the feature function returned no layers');
    const running: (tf.Tensor1D | undefined)[] = [];
    const layers = maps.map((f, k) => {
      if (o.centring === 'stimulus-mean') return centredCosine(f);
      const r = runningCentredCosine(f, state.running[k], o.beta);
      running[k] = r.running;
      return r.similarity;
    });
    const g = gamma(params, layers.length);
    const n = layers[0]!.shape[0]!;
    const mixed = tf.sum(tf.mul(tf.stack(layers), tf.reshape(g, [layers.length, 1, 1])), 0) as tf.Tensor2D;
    if (mixed.shape[0] !== n) throw new SpecError('features', 'every layer must return one feature row per stimulus');
    return { similarity: mixed, layers, state: { running } };
  };
  return Object.freeze({
    options: o,
    initGamma: (layers: number) => tf.zeros([layers]) as tf.Tensor1D,
    initState: (): RegularizerState => ({ running: [] }),
    gamma,
    similarity,
    loss(params, features, x, target, state) {
      const s = similarity(params, features, x, state);
      const similarityLoss = fisherZLoss(s.similarity, target, o.clamp);
      return { loss: tf.mul(similarityLoss, o.alpha) as tf.Scalar, similarityLoss, state: s.state };
    },
  } satisfies SimilarityRegularizer);
}
