/**
 * NumPy `.npz` archives: a ZIP file (PKWARE APPNOTE 6.3, without ZIP64) of `.npy` members, as
 * `numpy.savez_compressed` writes them: each member deflated (node:zlib's raw deflate), with its CRC-32,
 * a local header before the data and a central directory at the end. `numpy.load(file)` returns a mapping
 * from member names (without `.npy`) to arrays. `decodeNpz` reads it back for the round-trip tests.
 */
import zlib from 'node:zlib';
import { decodeNpy, encodeNpy, type NpyData } from './npy.js';

export interface NpzMember {
  readonly data: NpyData;
  readonly shape: readonly number[];
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
/** 1980-01-01 00:00 in DOS format: fixed, so the same arrays give the same bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export function encodeNpz(members: Readonly<Record<string, NpzMember>>, compress = true): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [key, member] of Object.entries(members)) {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(key)) throw new Error(`npz: member name ${JSON.stringify(key)} may hold letters, digits, _, ., - and / only`);
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const raw = encodeNpy(member.data, member.shape);
    const body = compress ? zlib.deflateRawSync(raw) : Buffer.from(raw);
    const crc = zlib.crc32(raw) >>> 0;
    if (raw.length >= 0xffffffff || offset >= 0xffffffff) throw new Error('npz: members over 4 GiB need ZIP64, which is not implemented');
    const method = compress ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra, comment, disk, internal and external attributes: all zero.
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  const count = Object.keys(members).length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/** Reads an archive written by `encodeNpz` (or numpy): member name → decoded array; checks every CRC. */
export function decodeNpz(bytes: Uint8Array): Record<string, ReturnType<typeof decodeNpy>> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const endAt = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new Error('npz: no end-of-central-directory record (not a zip file)');
  const count = buf.readUInt16LE(endAt + 10);
  let at = buf.readUInt32LE(endAt + 16);
  const out: Record<string, ReturnType<typeof decodeNpy>> = {};
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== CENTRAL) throw new Error(`npz: bad central directory entry ${i}`);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    const size = buf.readUInt32LE(at + 20);
    const nameLength = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    const localAt = buf.readUInt32LE(at + 42);
    const name = buf.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    const body = buf.subarray(dataAt, dataAt + size);
    const raw = method === 8 ? zlib.inflateRawSync(body) : method === 0 ? body : undefined;
    if (!raw) throw new Error(`npz: ${name} uses compression method ${method}`);
    if ((zlib.crc32(raw) >>> 0) !== crc) throw new Error(`npz: CRC mismatch in ${name}`);
    out[name.replace(/\.npy$/, '')] = decodeNpy(new Uint8Array(raw));
    at += 46 + nameLength + extra + comment;
  }
  return out;
}
