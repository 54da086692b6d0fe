/**
 * The generic classifier adapters: the feed-forward net and the relaxation classifier every family builds
 * on, and the registry families add theirs to (through registerFamily, src/families/registry.ts).
 */
export { classifierAdapters, classifierFor, type ClassifierAdapter, type ModelSource } from './source.js';
export { feedForwardClassifier, feedForwardLogits, type DenseLayer } from './feed-forward.js';
export { relaxationClassifier } from './relaxation-classifier.js';
