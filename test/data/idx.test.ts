import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/base/errors.js';
import { expectIdxShape, isGzip, parseIdx, readIdxFile } from '../../src/data/index.js';

/** Builds an IDX file: magic (0, 0, type, rank), big-endian dims, then the payload bytes as given. */
function idxBytes(typeByte: number, dims: number[], payload: number[] | Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, typeByte, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

/** Runs `f`, expecting a DataError whose message matches every pattern; returns the message. */
function dataErrorOf(f: () => unknown, ...patterns: RegExp[]): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    const message = (e as Error).message;
    for (const p of patterns) expect(message).toMatch(p);
    return message;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

const images = idxBytes(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);

describe('parseIdx', () => {
  it('reads a raw uint8 image file: dims big-endian, values in order', () => {
    const idx = parseIdx(images, 'tiny-images');
    expect(idx.dtype).toBe('uint8');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(idx.values).toBeInstanceOf(Uint8Array);
    expect(Array.from(idx.values)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it('reads the same file gzipped, detected by its 1f 8b magic', () => {
    const gz = gzipSync(images);
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(images)).toBe(false);
    const idx = parseIdx(gz, 'tiny-images.gz');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.values)).toEqual(Array.from(parseIdx(images, 'x').values));
  });

  it('reads dims larger than 255 (all four bytes of each dim)', () => {
    const idx = parseIdx(idxBytes(0x08, [300], new Uint8Array(300).fill(7)), 'labels');
    expect(idx.dims).toEqual([300]);
    expect(idx.values.length).toBe(300);
  });

  it('decodes big-endian multi-byte types', () => {
    const payload = new Uint8Array(2 * 4 + 2 * 4 + 2 * 2);
    const view = new DataView(payload.buffer);
    view.setInt32(0, -5, false);
    view.setInt32(4, 70000, false);
    expect(Array.from(parseIdx(idxBytes(0x0c, [2], payload.subarray(0, 8)), 'i32').values)).toEqual([-5, 70000]);
    view.setFloat32(8, 0.5, false);
    view.setFloat32(12, -2.25, false);
    const f32 = parseIdx(idxBytes(0x0d, [1, 2], payload.subarray(8, 16)), 'f32');
    expect(f32.dtype).toBe('float32');
    expect(Array.from(f32.values)).toEqual([0.5, -2.25]);
    view.setInt16(16, -300, false);
    view.setInt16(18, 1234, false);
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], payload.subarray(16, 20)), 'i16').values)).toEqual([-300, 1234]);
  });

  it('bad magic: names the file and shows the bytes', () => {
    const html = new TextEncoder().encode('<!DOCTYPE html><html>...');
    dataErrorOf(() => parseIdx(html, 'train-images-idx3-ubyte'), /train-images-idx3-ubyte/, /bad magic number/, /0x3c 0x21/);
  });

  it('unknown type byte', () => {
    dataErrorOf(() => parseIdx(idxBytes(0x07, [1], [0]), 'f.idx'), /f\.idx/, /unknown IDX type byte 0x07/);
  });

  it('file shorter than the magic number', () => {
    dataErrorOf(() => parseIdx(new Uint8Array([0, 0]), 'short.idx'), /short\.idx/, /truncated IDX file: 2 bytes/);
  });

  it('truncated header (dims cut off)', () => {
    dataErrorOf(() => parseIdx(idxBytes(0x08, [2, 2, 3], []).subarray(0, 10), 'h.idx'), /h\.idx/, /truncated IDX header: 3 dimensions need 16 header bytes, the file has 10/);
  });

  it('truncated data', () => {
    dataErrorOf(() => parseIdx(images.subarray(0, images.length - 1), 'd.idx'), /d\.idx/, /truncated IDX data: dims \[2, 2, 3\] of uint8 need 12 bytes after the header, the file has 11/);
  });

  it('extra bytes after the data', () => {
    dataErrorOf(() => parseIdx(idxBytes(0x08, [2], [1, 2, 3]), 'x.idx'), /x\.idx/, /1 unexpected bytes after the data/);
  });

  it('zero dimensions', () => {
    dataErrorOf(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'z.idx'), /z\.idx/, /0 dimensions/);
  });

  it('corrupt gzip stream', () => {
    const gz = gzipSync(images);
    dataErrorOf(() => parseIdx(gz.subarray(0, gz.length - 20), 'cut.gz'), /cut\.gz/, /cannot be inflated/);
  });
});

describe('expectIdxShape', () => {
  it('accepts matching dims and rejects wrong ones, naming the file', () => {
    const idx = parseIdx(images, 'imgs');
    expect(() => expectIdxShape(idx, 'imgs', { dtype: 'uint8', dims: [undefined, 2, 3], contents: 'images' })).not.toThrow();
    dataErrorOf(
      () => expectIdxShape(idx, 'imgs', { dtype: 'uint8', dims: [undefined], contents: 'labels' }),
      /imgs/,
      /wrong dims for labels: expected \[N\] of uint8, the file has \[2, 2, 3\] of uint8/,
    );
    dataErrorOf(() => expectIdxShape(idx, 'imgs', { dtype: 'uint8', dims: [undefined, 28, 28], contents: 'images' }), /expected \[N, 28, 28\]/);
  });
});

describe('readIdxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'neurodyn-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads raw and gzipped files from disk', () => {
    writeFileSync(join(dir, 'a'), images);
    writeFileSync(join(dir, 'a.gz'), gzipSync(images));
    expect(readIdxFile(join(dir, 'a')).dims).toEqual([2, 2, 3]);
    expect(Array.from(readIdxFile(join(dir, 'a.gz')).values)).toEqual(Array.from(readIdxFile(join(dir, 'a')).values));
  });

  it('a missing file is a DataError naming the path', () => {
    const path = join(dir, 'nope-idx1-ubyte');
    dataErrorOf(() => readIdxFile(path), new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), /no such file/);
  });
});
