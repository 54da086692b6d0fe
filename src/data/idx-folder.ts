/**
 * Loads a train/test split from a folder of MNIST-format IDX files with the standard names
 * (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`,
 * each raw or with `.gz`). MNIST, Fashion-MNIST and KMNIST are all distributed this way, so one loader
 * serves them all; only the class names differ.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../base/errors.js';
import { bytesToUnitFloats, DIGIT_CLASS_NAMES, makeDataset, type Dataset, type Split } from './dataset.js';
import { expectIdxShape, readIdxFile } from './idx.js';

/** The four standard file names, without the optional `.gz`. */
export const IDX_FILE_NAMES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

type IdxFileRole = keyof typeof IDX_FILE_NAMES;
const ROLES = Object.keys(IDX_FILE_NAMES) as IdxFileRole[];

/** Path of `baseName` or `baseName.gz` in `dir` (the raw file wins if both exist), or undefined. */
function findIdxFile(dir: string, baseName: string): string | undefined {
  for (const candidate of [baseName, `${baseName}.gz`]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Which of the four files `dir` has, and which it lacks. */
export function findIdxFiles(dir: string): { found: Partial<Record<IdxFileRole, string>>; missing: string[] } {
  const found: Partial<Record<IdxFileRole, string>> = {};
  const missing: string[] = [];
  for (const role of ROLES) {
    const path = findIdxFile(dir, IDX_FILE_NAMES[role]);
    if (path === undefined) missing.push(`${IDX_FILE_NAMES[role]}(.gz)`);
    else found[role] = path;
  }
  return { found, missing };
}

export interface IdxFolderOptions {
  /** Dataset name recorded in each part (`<name>/train`, `<name>/test`). Default `idx-folder`. */
  readonly name?: string;
  /** Class names, one per label value. Default the digits `0`..`9`. */
  readonly classNames?: readonly string[];
}

/** Loads both parts from `dir`; throws a DataError naming the folder and any missing or malformed file. */
export function loadIdxFolder(dir: string, options: IdxFolderOptions = {}): Split {
  const { found, missing } = findIdxFiles(dir);
  if (missing.length > 0) {
    throw new DataError(`${dir} is not a complete MNIST-format folder: missing ${missing.join(', ')}`);
  }
  const name = options.name ?? 'idx-folder';
  const classNames = options.classNames ?? DIGIT_CLASS_NAMES;
  return Object.freeze({
    train: loadPart(found.trainImages!, found.trainLabels!, `${name}/train`, dir, classNames),
    test: loadPart(found.testImages!, found.testLabels!, `${name}/test`, dir, classNames),
  });
}

function loadPart(imagesPath: string, labelsPath: string, name: string, source: string, classNames: readonly string[]): Dataset {
  const images = readIdxFile(imagesPath);
  expectIdxShape(images, imagesPath, { dtype: 'uint8', dims: [undefined, undefined, undefined], contents: 'images' });
  const labels = readIdxFile(labelsPath);
  expectIdxShape(labels, labelsPath, { dtype: 'uint8', dims: [undefined], contents: 'labels' });
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new DataError(`${labelsPath}: ${labels.dims[0]} labels, but ${imagesPath} has ${count} images`);
  }
  const labelValues = labels.values as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (labelValues[i]! >= classNames.length) {
      throw new DataError(`${labelsPath}: label ${labelValues[i]} of example ${i} is not below the number of classes (${classNames.length})`);
    }
  }
  return makeDataset({
    name,
    source,
    images: bytesToUnitFloats(images.values as Uint8Array),
    labels: Uint8Array.from(labelValues),
    count,
    height,
    width,
    classes: classNames.length,
    classNames,
  });
}
