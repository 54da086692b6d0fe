import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodeGreyPng, tileGridImage, tileGridPng } from '../../src/runs/png.js';

/** Reads back a PNG written by encodeGreyPng: checks every chunk's CRC with node's zlib.crc32 and inflates the pixels. */
function decode(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  for (;;) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const body = png.subarray(offset + 8, offset + 8 + length);
    expect(view.getUint32(offset + 8 + length)).toBe(zlib.crc32(png.subarray(offset + 4, offset + 8 + length)));
    if (type === 'IHDR') {
      width = new DataView(body.buffer, body.byteOffset).getUint32(0);
      height = new DataView(body.buffer, body.byteOffset).getUint32(4);
      expect([body[8], body[9]]).toEqual([8, 0]);
    }
    if (type === 'IDAT') idat.push(body);
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width + 1)]).toBe(0);
    pixels.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, pixels };
}

describe('png', () => {
  it('crc32 matches node:zlib', () => {
    const bytes = new TextEncoder().encode('IEND and some bytes');
    expect(crc32(bytes)).toBe(zlib.crc32(bytes));
  });

  it('a greyscale image round-trips through an independent decoder', () => {
    const pixels = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 256);
    const back = decode(encodeGreyPng(pixels, 7, 5));
    expect([back.width, back.height]).toEqual([7, 5]);
    expect(Array.from(back.pixels)).toEqual(Array.from(pixels));
  });

  it('a tile grid places each tile, scaled, with gaps, each stretched to the full grey range', () => {
    // Two 2×2 tiles: a ramp and its negative.
    const values = Float32Array.from([0, 1, 2, 3, 0, -1, -2, -3]);
    const back = decode(tileGridPng(values, 2, 2, { columns: 2, scale: 1, gap: 1 }));
    expect([back.width, back.height]).toEqual([7, 4]);
    const at = (x: number, y: number) => back.pixels[y * 7 + x];
    expect([at(1, 1), at(2, 1), at(1, 2), at(2, 2)]).toEqual([0, 85, 170, 255]);
    expect([at(4, 1), at(5, 1), at(4, 2), at(5, 2)]).toEqual([255, 170, 85, 0]);
    expect(at(0, 0)).toBe(128);
    expect(() => encodeGreyPng(new Uint8Array(3), 2, 2)).toThrow(/needs 4 pixels/);
  });
});

describe('tile labels', () => {
  it('draw each tile its label in a white band above it, in the 3×5 font, and leave the tile as it was', () => {
    const tiles = Float32Array.from([0, 1, 1, 0, 1, 0, 0, 1]); // two 2×2 tiles
    const plain = tileGridImage(tiles, 2, 2, { columns: 2, scale: 4, gap: 1 });
    const labelled = tileGridImage(tiles, 2, 2, { columns: 2, scale: 4, gap: 1, labels: ['1', '#7'] });
    expect(labelled.width).toBe(plain.width);
    expect(labelled.height).toBe(plain.height + 7); // a 5-pixel font and a pixel above and below
    const at = (img: typeof plain, x: number, y: number) => img.pixels[y * img.width + x]!;
    // "1" is 010/110/010/010/111 from (x0 + 1, y0 + 1) of the band of tile 0 (x0 = 1, band from y = 1).
    const one = ['010', '110', '010', '010', '111'];
    for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) expect(at(labelled, 2 + c, 2 + r)).toBe(one[r]![c] === '1' ? 0 : 255);
    // The tiles themselves moved down by the band and are unchanged.
    for (let y = 0; y < 8; y++) for (let x = 0; x < plain.width; x++) expect(at(labelled, x, y + 1 + 7)).toBe(at(plain, x, y + 1));
    // Tile 1's label starts with '#' (101/111/…) at x = 1 + 9 + 1.
    expect([at(labelled, 11, 2), at(labelled, 12, 2), at(labelled, 13, 2)]).toEqual([0, 255, 0]);
  });
});
