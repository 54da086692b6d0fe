/**
 * Classifier adapters: how a family turns a ModelSource (a spec, and the trained parameters of a run folder)
 * into a DynamicsClassifier that attacks and corruptions can evaluate. Families register theirs through
 * registerFamily (src/families/registry.ts).
 */
import { SpecError } from '../../base/errors.js';
import { createRegistry } from '../../core/registry.js';
import type { ModelSource } from '../../runs/model-source.js';
import type { DynamicsClassifier } from '../classifier.js';

export type { ModelSource };

export interface ClassifierAdapter {
  readonly kind: string;
  readonly description: string;
  /** Builds the classifier; takes ownership of `source.trained.params`. */
  create(source: ModelSource): DynamicsClassifier;
}

/** Adapters by system kind. */
export const classifierAdapters = createRegistry<ClassifierAdapter>('classifier adapter (system kind)');

export function classifierFor(source: ModelSource): DynamicsClassifier {
  if (!classifierAdapters.has(source.system.kind)) {
    throw new SpecError(
      'system.kind',
      `${source.origin}: no attack adapter for system ${JSON.stringify(source.system.kind)}; attackable kinds: ${classifierAdapters.names().join(', ')}`,
    );
  }
  return classifierAdapters.get(source.system.kind).create(source);
}
