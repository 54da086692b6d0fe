/**
 * Named trees of tensors: the one shape of every state, parameter set and input.
 *
 * A tree is a tensor, an array of trees, or a record of trees. Leaves are addressed by dotted paths
 * (`layers.0`, `h`), which is how probes, stop conditions and error messages name a variable.
 */
import * as tf from '@tensorflow/tfjs-core';

export type TensorTree = tf.Tensor | readonly TensorTree[] | { readonly [key: string]: TensorTree };

export interface Leaf {
  readonly path: string;
  readonly tensor: tf.Tensor;
}

function isTensor(x: unknown): x is tf.Tensor {
  return x instanceof tf.Tensor;
}

function joinPath(prefix: string, key: string | number): string {
  return prefix === '' ? String(key) : `${prefix}.${key}`;
}

/** All leaves in a fixed order (arrays by index, records by insertion order). */
export function leaves(tree: TensorTree, prefix = ''): Leaf[] {
  if (isTensor(tree)) return [{ path: prefix, tensor: tree }];
  const out: Leaf[] = [];
  if (Array.isArray(tree)) {
    (tree as readonly TensorTree[]).forEach((child, i) => out.push(...leaves(child, joinPath(prefix, i))));
  } else {
    for (const [key, child] of Object.entries(tree as Record<string, TensorTree>)) out.push(...leaves(child, joinPath(prefix, key)));
  }
  return out;
}

export function tensorsOf(tree: TensorTree): tf.Tensor[] {
  return leaves(tree).map((l) => l.tensor);
}

/** Applies `fn` to every leaf, keeping the structure. */
export function mapTree<T extends TensorTree>(tree: T, fn: (t: tf.Tensor, path: string) => tf.Tensor, prefix = ''): T {
  if (isTensor(tree)) return fn(tree, prefix) as T;
  if (Array.isArray(tree)) return (tree as readonly TensorTree[]).map((c, i) => mapTree(c, fn, joinPath(prefix, i))) as unknown as T;
  const out: Record<string, TensorTree> = {};
  for (const [key, child] of Object.entries(tree as Record<string, TensorTree>)) out[key] = mapTree(child, fn, joinPath(prefix, key));
  return out as T;
}

/** Applies `fn` to matching leaves of two trees of the same structure. */
export function zipTree<T extends TensorTree>(a: T, b: T, fn: (x: tf.Tensor, y: tf.Tensor, path: string) => tf.Tensor): T {
  const bl = leaves(b);
  let i = 0;
  return mapTree(a, (x, path) => {
    const other = bl[i++];
    if (!other || other.path !== path) throw new Error(`zipTree: trees differ in structure at '${path}'`);
    return fn(x, other.tensor, path);
  });
}

/** Rebuilds a tree of the template's structure from tensors listed in `leaves(template)` order. */
export function fromTensors<T extends TensorTree>(template: T, tensors: readonly tf.Tensor[]): T {
  let i = 0;
  const out = mapTree(template, () => {
    const t = tensors[i++];
    if (!t) throw new Error('fromTensors: too few tensors for the template');
    return t;
  });
  if (i !== tensors.length) throw new Error(`fromTensors: ${tensors.length} tensors for ${i} leaves`);
  return out;
}

/** The leaf at a dotted path, or undefined. */
export function getLeaf(tree: TensorTree, path: string): tf.Tensor | undefined {
  return leaves(tree).find((l) => l.path === path)?.tensor;
}

export function leafPaths(tree: TensorTree): string[] {
  return leaves(tree).map((l) => l.path);
}

export function disposeTree(tree: TensorTree | undefined): void {
  if (tree !== undefined) tf.dispose(tensorsOf(tree));
}

export function keepTree<T extends TensorTree>(tree: T): T {
  for (const t of tensorsOf(tree)) tf.keep(t);
  return tree;
}

/** Total number of scalar values in the tree. */
export function treeSize(tree: TensorTree): number {
  return tensorsOf(tree).reduce((n, t) => n + t.size, 0);
}

/**
 * `tf.tidy` for a function returning a tree: every tensor made inside is freed except the leaves of the
 * returned tree. tfjs types tidy's result as a TensorContainer; this keeps the tree's own type.
 */
export function tidyTree<T extends TensorTree>(fn: () => T): T {
  return tf.tidy(() => fn() as unknown as tf.TensorContainer) as unknown as T;
}
