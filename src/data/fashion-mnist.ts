/**
 * Full Fashion-MNIST (Xiao et al. 2017): 60,000 train and 10,000 test 28x28 greyscale images of ten kinds
 * of clothing, in MNIST's IDX format. The files are not bundled (30 MB); they are read from `dataDir` if it
 * holds them, else from the folder where Debian's package `dataset-fashion-mnist` installs them
 * (`/usr/share/datasets/fashion-mnist`, gzipped), which CI installs.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { DataError } from '../base/errors.js';
import type { Split } from './dataset.js';
import { findIdxFiles, IDX_FILE_NAMES, loadIdxFolder } from './idx-folder.js';

/** Where `apt-get install dataset-fashion-mnist` puts the four `.gz` files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Class names by label, as in the dataset's README. */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

export const FASHION_MNIST_TRAIN_COUNT = 60_000;
export const FASHION_MNIST_TEST_COUNT = 10_000;

export interface FashionMnistOptions {
  /** A folder with the four standard IDX files (raw or `.gz`); looked in first. */
  readonly dataDir?: string;
  /** The system-wide folder looked in next. Default `DEBIAN_FASHION_MNIST_DIR`; tests inject another. */
  readonly systemDir?: string;
}

/**
 * Loads Fashion-MNIST from the first of `dataDir`, `systemDir` that holds it. A folder holding some of the
 * files but not all is an error rather than skipped, since it is most likely a broken download the user
 * meant to use. When no folder has any file, the DataError names every place looked in and both fixes.
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): Split {
  const places = [options.dataDir, options.systemDir ?? DEBIAN_FASHION_MNIST_DIR].filter((d): d is string => d !== undefined);
  if (options.dataDir !== undefined) checkReadableFolder(options.dataDir);
  for (const dir of places) {
    if (!existsSync(dir)) continue;
    const { missing } = findIdxFiles(dir);
    if (missing.length === Object.keys(IDX_FILE_NAMES).length) continue;
    return loadIdxFolder(dir, { name: 'fashion-mnist', classNames: FASHION_MNIST_CLASS_NAMES });
  }
  const fileList = Object.values(IDX_FILE_NAMES).map((f) => `${f}(.gz)`).join(', ');
  throw new DataError(
    `Fashion-MNIST not found: looked in ${places.map((p) => JSON.stringify(p)).join(' and ')} for ${fileList}. ` +
      'Pass --data-dir DIR with a folder holding these files (the standard Fashion-MNIST release), ' +
      `or install them system-wide with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; installs to ${DEBIAN_FASHION_MNIST_DIR}).`,
  );
}

/** A folder the user named explicitly must exist and be readable: a typo should not silently fall back. */
function checkReadableFolder(dir: string): void {
  let stat;
  try {
    stat = statSync(dir);
    if (stat.isDirectory()) readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`data folder ${JSON.stringify(dir)} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`}; pass --data-dir with a folder of MNIST-format IDX files`);
  }
  if (!stat.isDirectory()) throw new DataError(`data folder ${JSON.stringify(dir)} is a file, not a folder; pass --data-dir with a folder of MNIST-format IDX files`);
}
