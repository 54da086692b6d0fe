/**
 * Pictures for run folders: a minimal PNG writer (8-bit greyscale, one IDAT chunk compressed with
 * node:zlib, CRC-32 per chunk as in the PNG specification, ISO/IEC 15948 §5.3) and a tiled grid of small
 * images (dictionary atoms, inputs beside their reconstructions), each tile scaled to the full grey range.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit greyscale PNG of `pixels` (row-major, width × height bytes). */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new Error(`PNG size must be positive integers, got ${width}×${height}`);
  if (pixels.length !== width * height) throw new Error(`PNG ${width}×${height} needs ${width * height} pixels, got ${pixels.length}`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: greyscale
  // Each scanline starts with its filter type (0: none).
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export interface TileGridOptions {
  /** Tiles per row. */
  readonly columns: number;
  /** Each tile is drawn `scale` × `scale` pixels per value (default 2). */
  readonly scale?: number;
  /** Pixels between tiles (default 1). */
  readonly gap?: number;
  /** Grey level of the gaps (default 128; use 255 where mid-grey means zero, as for signed atoms). */
  readonly gapGrey?: number;
  /**
   * 'tile': each tile stretched to black…white (atoms, whose sign and scale are arbitrary); 'symmetric':
   * each tile mapped so that 0 is mid-grey and ±max|v| are black and white (signed atoms); or a fixed
   * [low, high] range shared by all tiles (images and their reconstructions, so they compare).
   */
  readonly range?: 'tile' | 'symmetric' | readonly [number, number];
  /**
   * A short label above each tile, in tile order (atom index, example, cycle), drawn black on a white band
   * in a 3×5 pixel font: digits, space, # - . and the letters of LABEL_FONT. Other characters are left blank.
   */
  readonly labels?: readonly string[];
}

/** 3×5 glyphs, one string of 15 bits (rows top to bottom) per character. */
const LABEL_FONT: Readonly<Record<string, string>> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001001010010', '8': '111101111101111', '9': '111101111001111',
  a: '000011101101011', c: '000011100100011', e: '010101111100011', i: '010000010010010', l: '100100100100011',
  m: '000111111101101', n: '000110101101101', o: '000010101101010', r: '000011100100100', s: '011100010001110',
  t: '010111010010001', u: '000101101101011', x: '000101010010101', y: '101101011001110',
  ' ': '000000000000000', '#': '101111101111101', '-': '000000111000000', '.': '000000000000010',
};

/** Draws `text` black into `pixels` (row width `width`) from (x0, y0), each font pixel `size` × `size`; clipped at `maxWidth`. */
function drawLabel(pixels: Uint8Array, width: number, x0: number, y0: number, text: string, size: number, maxWidth: number): void {
  let x = x0;
  for (const ch of text.toLowerCase()) {
    const glyph = LABEL_FONT[ch];
    if (x + 3 * size > x0 + maxWidth) break;
    if (glyph) {
      for (let r = 0; r < 5; r++)
        for (let c = 0; c < 3; c++) {
          if (glyph[r * 3 + c] !== '1') continue;
          for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) pixels[(y0 + r * size + dy) * width + x + c * size + dx] = 0;
        }
    }
    x += 4 * size;
  }
}

/**
 * Lays out `tiles` (each `tileHeight × tileWidth` values, row-major, one after another in `values`) in a
 * grid and encodes it as a PNG.
 */
export function tileGridPng(values: Float32Array, tileHeight: number, tileWidth: number, options: TileGridOptions): Uint8Array {
  const { pixels, width, height } = tileGridImage(values, tileHeight, tileWidth, options);
  return encodeGreyPng(pixels, width, height);
}

/** The grey pixels of tileGridPng's picture (row-major, width × height). */
export function tileGridImage(values: Float32Array, tileHeight: number, tileWidth: number, options: TileGridOptions): { pixels: Uint8Array; width: number; height: number } {
  const per = tileHeight * tileWidth;
  const count = Math.floor(values.length / per);
  const columns = Math.max(1, Math.min(options.columns, count));
  const rows = Math.ceil(count / columns);
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 1;
  const range = options.range ?? 'tile';
  const width = columns * (tileWidth * scale + gap) + gap;
  // The label band: the font at 2× where the tiles are wide enough, a pixel of space above and below.
  const fontSize = options.labels ? (tileWidth * scale >= 48 ? 2 : 1) : 0;
  const band = options.labels ? 5 * fontSize + 2 : 0;
  const height = rows * (band + tileHeight * scale + gap) + gap;
  const pixels = new Uint8Array(width * height).fill(options.gapGrey ?? 128);
  for (let t = 0; t < count; t++) {
    const tile = values.subarray(t * per, (t + 1) * per);
    let low: number;
    let high: number;
    if (range === 'tile') {
      low = Math.min(...tile);
      high = Math.max(...tile);
    } else if (range === 'symmetric') {
      const m = Math.max(...tile.map(Math.abs));
      low = -m;
      high = m;
    } else [low, high] = range;
    const span = high - low || 1;
    const x0 = gap + (t % columns) * (tileWidth * scale + gap);
    const y0 = gap + Math.floor(t / columns) * (band + tileHeight * scale + gap) + band;
    if (band) {
      for (let y = y0 - band; y < y0; y++) pixels.fill(255, y * width + x0, y * width + x0 + tileWidth * scale);
      drawLabel(pixels, width, x0 + 1, y0 - band + 1, options.labels![t] ?? '', fontSize, tileWidth * scale - 1);
    }
    for (let y = 0; y < tileHeight; y++)
      for (let x = 0; x < tileWidth; x++) {
        const grey = Math.round(255 * Math.min(1, Math.max(0, (tile[y * tileWidth + x]! - low) / span)));
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) pixels[(y0 + y * scale + dy) * width + x0 + x * scale + dx] = grey;
      }
  }
  return { pixels, width, height };
}
