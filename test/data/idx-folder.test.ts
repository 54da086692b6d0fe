import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, SpecError, UnknownNameError } from '../../src/base/errors.js';
import {
  classHistogram,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_TEST_COUNT,
  FASHION_MNIST_TRAIN_COUNT,
  loadDataset,
  loadFashionMnist,
  loadIdxFolder,
} from '../../src/data/index.js';

function idxBytes(typeByte: number, dims: number[], payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, typeByte, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

/** Writes a tiny MNIST-format folder: image i of a part is filled with byte (label * 25 + i) % 256. */
function writeTinyFolder(dir: string, options: { gzip?: boolean; trainCount?: number; testCount?: number; side?: number; badLabel?: boolean; labelCount?: number } = {}): void {
  mkdirSync(dir, { recursive: true });
  const side = options.side ?? 28;
  const write = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, options.gzip ? `${name}.gz` : name), options.gzip ? gzipSync(bytes) : bytes);
  const part = (prefix: string, count: number) => {
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
    if (options.badLabel) labels[count - 1] = 12;
    const pixels = new Uint8Array(count * side * side);
    for (let i = 0; i < count; i++) pixels.fill((labels[i]! * 25 + i) % 256, i * side * side, (i + 1) * side * side);
    write(`${prefix}-images-idx3-ubyte`, idxBytes(0x08, [count, side, side], pixels));
    const labelCount = Math.min(options.labelCount ?? count, count);
    write(`${prefix}-labels-idx1-ubyte`, idxBytes(0x08, [labelCount], labels.subarray(0, labelCount)));
  };
  part('train', options.trainCount ?? 20);
  part('t10k', options.testCount ?? 10);
}

/** Runs `f`, expecting an error of class `type` whose message matches every pattern. */
function errorOf<E extends Error>(type: new (...args: never[]) => E, f: () => unknown, ...patterns: RegExp[]): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    for (const p of patterns) expect((e as Error).message).toMatch(p);
    return e as E;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

const root = mkdtempSync(join(tmpdir(), 'neurodyn-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const escape = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

describe('loadIdxFolder', () => {
  it('loads raw and gzipped folders the same way, pixels as byte/255', () => {
    writeTinyFolder(join(root, 'raw'));
    writeTinyFolder(join(root, 'gz'), { gzip: true });
    for (const dir of [join(root, 'raw'), join(root, 'gz')]) {
      const { train, test } = loadIdxFolder(dir);
      expect([train.count, test.count]).toEqual([20, 10]);
      expect([train.height, train.width, train.classes]).toEqual([28, 28, 10]);
      expect(train.name).toBe('idx-folder/train');
      expect(train.source).toBe(dir);
      expect(Array.from(train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
      // image 3 (label 3) is filled with byte 78
      expect(train.images[3 * 784]).toBe(Math.fround(78 / 255));
      expect(train.images[4 * 784 - 1]).toBe(Math.fround(78 / 255));
      expect(classHistogram(test)).toEqual(new Array(10).fill(1));
    }
  });

  it('a folder missing files names the folder and the missing files', () => {
    const dir = join(root, 'partial');
    writeTinyFolder(dir);
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    errorOf(DataError, () => loadIdxFolder(dir), escape(dir), /missing t10k-labels-idx1-ubyte\(\.gz\)/);
  });

  it('label count not matching image count', () => {
    const dir = join(root, 'mismatch');
    writeTinyFolder(dir, { labelCount: 19 });
    errorOf(DataError, () => loadIdxFolder(dir), /train-labels-idx1-ubyte: 19 labels, but .*train-images-idx3-ubyte has 20 images/);
  });

  it('label out of range of the class names', () => {
    const dir = join(root, 'badlabel');
    writeTinyFolder(dir, { badLabel: true });
    errorOf(DataError, () => loadIdxFolder(dir), /train-labels-idx1-ubyte: label 12 of example 19 is not below the number of classes \(10\)/);
  });

  it('images file with the wrong rank', () => {
    const dir = join(root, 'flat');
    writeTinyFolder(dir);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes(0x08, [20, 784], new Uint8Array(20 * 784)));
    errorOf(DataError, () => loadIdxFolder(dir), /train-images-idx3-ubyte: wrong dims for images: expected \[N, N, N\] of uint8, the file has \[20, 784\]/);
  });
});

describe('loadFashionMnist', () => {
  it('reads a dataDir first, with Fashion-MNIST class names', () => {
    const dir = join(root, 'fashion-tiny');
    writeTinyFolder(dir, { gzip: true });
    const { train } = loadFashionMnist({ dataDir: dir, systemDir: join(root, 'no-such-system-dir') });
    expect(train.name).toBe('fashion-mnist/train');
    expect(train.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(train.classNames[9]).toBe('Ankle boot');
  });

  it('falls back to the system folder when dataDir has none of the files', () => {
    const empty = mkdtempSync(join(root, 'empty-'));
    const system = join(root, 'system-tiny');
    writeTinyFolder(system);
    expect(loadFashionMnist({ dataDir: empty, systemDir: system }).train.source).toBe(system);
  });

  it('not found anywhere: names both places and both fixes', () => {
    const dataDir = mkdtempSync(join(root, 'user-'));
    const systemDir = mkdtempSync(join(root, 'system-'));
    const e = errorOf(DataError, () => loadFashionMnist({ dataDir, systemDir }), /Fashion-MNIST not found/, escape(dataDir), escape(systemDir), /--data-dir DIR/, /apt-get install dataset-fashion-mnist/);
    expect(e.exitCode).toBe(3);
    // a folder named explicitly that does not exist is an error of its own, not a silent fallback
    errorOf(DataError, () => loadFashionMnist({ dataDir: join(root, 'absent'), systemDir }), escape(join(root, 'absent')), /does not exist/);
  });

  // CI installs dataset-fashion-mnist, so there the test must run; elsewhere it is skipped when absent.
  it.skipIf(!existsSync(DEBIAN_FASHION_MNIST_DIR) && !process.env.CI)(
    `loads the real dataset from ${DEBIAN_FASHION_MNIST_DIR} (skipped outside CI where dataset-fashion-mnist is not installed)`,
    () => {
      const { train, test } = loadFashionMnist();
      expect(train.count).toBe(FASHION_MNIST_TRAIN_COUNT);
      expect(test.count).toBe(FASHION_MNIST_TEST_COUNT);
      for (const part of [train, test]) {
        expect([part.height, part.width, part.classes]).toEqual([28, 28, 10]);
        expect(part.images.length).toBe(part.count * 784);
        expect(part.source).toBe(DEBIAN_FASHION_MNIST_DIR);
      }
      expect(classHistogram(train)).toEqual(new Array(10).fill(6000));
      expect(classHistogram(test)).toEqual(new Array(10).fill(1000));
      // First labels of the published files: ankle boot, T-shirt, T-shirt, dress, ... / ankle boot, pullover, trouser, ...
      expect(Array.from(train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
      expect(Array.from(test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
      let min = Infinity;
      let max = -Infinity;
      for (const v of test.images) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect([min, max]).toEqual([0, 1]);
    },
    20_000,
  );
});

describe('loadDataset (registry)', () => {
  it('an unknown name is an UnknownNameError at data.name listing the known names', () => {
    const e = errorOf(UnknownNameError, () => loadDataset('cifar-10'), /data\.name/, /"cifar-10"/, /"mnist-embedded", "fashion-mnist", "idx-folder"/);
    expect(e.path).toBe('data.name');
  });

  it('idx-folder needs a dataDir', () => {
    const e = errorOf(SpecError, () => loadDataset('idx-folder'), /--data-dir DIR/);
    expect(e.path).toBe('data.dataDir');
  });

  it('idx-folder and fashion-mnist load through the registry', () => {
    const dir = join(root, 'registry-tiny');
    writeTinyFolder(dir);
    expect(loadDataset('idx-folder', { dataDir: dir }).test.count).toBe(10);
    expect(loadDataset('fashion-mnist', { dataDir: dir, systemDir: join(root, 'absent') }).train.classNames[0]).toBe('T-shirt/top');
  });

  it('the default is the embedded MNIST', () => {
    expect(loadDataset().train.name).toBe('mnist-embedded/train');
  });
});
