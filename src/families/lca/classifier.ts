/**
 * An LCANet (src/jobs/lcanet.ts: a convolutional LCA front end with a learned dictionary, then a small
 * CNN/MLP head trained by backprop) as a classifier: the image relaxes with the LCA system's own dynamics
 * for `run.maxSteps` steps from u = 0 (the system normalises each image itself when `normalizeInput` is
 * set), and the head turns the sparse code a = T_λ(u) into class scores, exactly as the job evaluates it.
 *
 * The LCA's soft or hard threshold has a zero derivative below λ, so inactive units pass no gradient back
 * (Tao et al.'s LGM addresses such input-dependent gates); the attractor diagnostics and the gradient-free
 * and transfer attacks are there to show whether that masks the gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { relaxationSettings } from '../../core/run-settings.js';
import { DataError } from '../../base/errors.js';
import { headLogits, type HeadSpec } from './lcanet-head.js';
import { lcaConvEntry, lcaEntry } from './options.js';
import type { DynamicsClassifier } from '../../attacks/classifier.js';
import { relaxationClassifier } from '../../attacks/models/relaxation-classifier.js';
import type { ClassifierAdapter, ModelSource } from '../../attacks/models/source.js';

export function lcanetClassifier(source: ModelSource): DynamicsClassifier {
  const trained = source.trained;
  const head = trained?.meta?.head as HeadSpec | undefined;
  if (!trained || !head || !trained.params['lca.dictionary']) {
    throw new DataError(`${source.origin}: an LCA classifier needs a trained LCANet (model/ with lca.dictionary and head.* from an lcanet run); pass that run folder`);
  }
  const { train } = source.data;
  const n = train.height * train.width;
  const { kind, ...options } = source.system;
  const system = (kind === 'lca' ? lcaEntry : lcaConvEntry).create(options, { inputSize: n });
  const imageShape: [number, number, number] = [train.height, train.width, 1];
  const { 'lca.dictionary': dictionary, ...headParams } = trained.params;
  return relaxationClassifier({
    name: `LCANet (${kind}, ${String(options.features ?? '?')} atoms, λ ${String(options.lambda ?? '?')}, ${source.run.maxSteps} steps; ${trained.trainedBy})`,
    family: kind,
    system,
    params: { dictionary: dictionary! },
    classes: head.classes,
    imageShape,
    relaxation: relaxationSettings(source.run),
    toInput: (x) => ({ x: kind === 'lca-conv' ? tf.reshape(x, [x.shape[0]!, ...imageShape]) : x }),
    logitsOf: (code) => headLogits(head, headParams, code),
    owned: Object.values(headParams),
  });
}

export const lcanetClassifierAdapter: ClassifierAdapter = {
  kind: 'lca-conv',
  description: 'LCANet: convolutional LCA front end relaxed for the spec’s steps, then the trained head',
  create: (source) => lcanetClassifier(source),
};
