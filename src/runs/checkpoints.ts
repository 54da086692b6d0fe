/**
 * Checkpoints of a training run, kept where an interrupt cannot remove them, so `--resume` can continue.
 *
 * The run folder itself is built under a hidden temporary name that an interrupt deletes (run-folder.ts);
 * checkpoints live beside it in `.<run folder name>.checkpoint/`, a name derived from the destination
 * alone, so a second invocation with the same `--out` finds them. They are written only once training has
 * started (after every validation), so a spec that fails validation leaves nothing behind; and they are
 * removed when the run completes.
 *
 * Layout: `<dir>/spec.json` (the resolved spec that wrote them: a resume must use the same one), and per
 * training `<dir>/<label>/epoch-<k>/` holding one `.npy` per tensor or array and `record.json`, and
 * `<dir>/<label>/latest.json` naming the last complete epoch folder. latest.json is replaced atomically
 * after its folder is complete, so an interrupt during a save leaves the previous checkpoint in force.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError, SpecError } from '../base/errors.js';
import { encodeNpy } from '../export/npy.js';
import { readFloat32Npy, readJsonFile } from './read-files.js';
import { writing } from './output-path.js';
import { writeFileAtomic } from './atomic-write.js';

export interface Checkpoint {
  /** Epochs completed. */
  readonly epoch: number;
  readonly tensors: Readonly<Record<string, tf.Tensor>>;
  readonly arrays: Readonly<Record<string, Float32Array>>;
  /** Anything JSON: optimizer step, metrics history. */
  readonly record: Readonly<Record<string, unknown>>;
}

export interface CheckpointStore {
  readonly dir: string;
  /** The last checkpoint saved under `label`, or undefined (the caller owns the returned tensors). */
  load(label: string): Checkpoint | undefined;
  save(label: string, checkpoint: Checkpoint): void;
  /** Removes every checkpoint (the run completed). */
  clear(): void;
}

export function checkpointDirFor(destination: string): string {
  const dest = path.resolve(destination);
  return path.join(path.dirname(dest), `.${path.basename(dest)}.checkpoint`);
}

/**
 * The destination of the newest run under `parent` whose default name starts with `<name>-` and that left
 * checkpoints (`.<name>-<UTC time>.checkpoint`), or undefined. The time stamps sort as text.
 */
export function latestCheckpointedDestination(parent: string, name: string): string | undefined {
  if (!fs.existsSync(parent)) return undefined;
  const pattern = new RegExp(`^\\.(${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}-\\d{6})\\.checkpoint$`);
  const found = fs
    .readdirSync(parent)
    .map((entry) => pattern.exec(entry)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
  return found.length ? path.join(parent, found[found.length - 1]!) : undefined;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * Opens the checkpoints of the run that will end up at `destination`. Without `resume`, finding
 * checkpoints is an error (the earlier run would otherwise be silently discarded); with `resume`, they must
 * have been written by the same spec.
 */
export function openCheckpoints(destination: string, spec: unknown, resume: boolean): CheckpointStore {
  const dir = checkpointDirFor(destination);
  const specText = `${JSON.stringify(spec, null, 2)}\n`;
  const specFile = path.join(dir, 'spec.json');
  const exists = fs.existsSync(specFile);
  if (exists && !resume) {
    throw new SpecError('--resume', `an interrupted run left checkpoints in ${dir}; pass --resume (with the same spec and --out) to continue it, or delete that folder to start over`);
  }
  if (exists && fs.readFileSync(specFile, 'utf8') !== specText) {
    throw new SpecError('--resume', `the checkpoints in ${dir} were written by a different spec; resume with the spec that wrote them (${specFile}) or delete that folder`);
  }
  if (!exists && resume) {
    throw new SpecError('--resume', `no checkpoints to resume from in ${dir}; run without --resume (the folder is named after --out, so pass the same --out as the interrupted run)`);
  }
  return Object.freeze({
    dir,
    load(label: string): Checkpoint | undefined {
      const base = path.join(dir, safeName(label));
      const latest = path.join(base, 'latest.json');
      if (!fs.existsSync(latest)) return undefined;
      const remedy = `delete ${dir} to start over (the checkpoint is damaged)`;
      const pointer = readJsonFile(latest, 'the checkpoint pointer', remedy) as { folder?: unknown };
      if (typeof pointer?.folder !== 'string' || !/^epoch-\d+$/.test(pointer.folder)) throw new DataError(`${latest} does not name an epoch folder; ${remedy}`);
      const folder = pointer.folder;
      const recordFile = path.join(base, folder, 'record.json');
      const saved = readJsonFile(recordFile, 'the checkpoint record', remedy) as {
        epoch: number;
        record: Record<string, unknown>;
        tensors: { name: string; file: string }[];
        arrays: { name: string; file: string }[];
      };
      const listed = (l: unknown) => Array.isArray(l) && l.every((e) => typeof e?.name === 'string' && typeof e?.file === 'string' && /^[A-Za-z0-9_.-]+\.npy$/.test(e.file));
      if (!(Number.isInteger(saved?.epoch) && saved.record !== null && typeof saved.record === 'object' && listed(saved.tensors) && listed(saved.arrays))) {
        throw new DataError(`${recordFile} is not a checkpoint record (epoch, record, tensors, arrays); ${remedy}`);
      }
      const read = (name: string, file: string) => readFloat32Npy(path.join(base, folder, file), `checkpoint array ${name}`, remedy);
      const tensors: Record<string, tf.Tensor> = {};
      try {
        for (const { name, file } of saved.tensors) {
          const npy = read(name, file);
          tensors[name] = tf.tensor(npy.data, npy.shape, 'float32');
        }
        const arrays = Object.fromEntries(saved.arrays.map(({ name, file }) => [name, read(name, file).data]));
        return { epoch: saved.epoch, record: saved.record, tensors, arrays };
      } catch (e) {
        tf.dispose(Object.values(tensors));
        throw e;
      }
    },
    save(label: string, checkpoint: Checkpoint): void {
      writing('write a checkpoint into', dir, () => saveCheckpoint(label, checkpoint));
    },
    clear(): void {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });

  function saveCheckpoint(label: string, checkpoint: Checkpoint): void {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(specFile)) writeFileAtomic(specFile, specText);
    const base = path.join(dir, safeName(label));
    const folder = `epoch-${checkpoint.epoch}`;
    const target = path.join(base, folder);
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    const write = (prefix: string, name: string, data: Float32Array, shape: readonly number[]) => {
      const file = `${prefix}-${safeName(name)}.npy`;
      fs.writeFileSync(path.join(target, file), encodeNpy(data, shape));
      return { name, file };
    };
    const tensors = Object.entries(checkpoint.tensors).map(([name, t]) => write('tensor', name, t.dataSync() as Float32Array, t.shape));
    const arrays = Object.entries(checkpoint.arrays).map(([name, a]) => write('array', name, a, [a.length]));
    fs.writeFileSync(path.join(target, 'record.json'), JSON.stringify({ epoch: checkpoint.epoch, record: checkpoint.record, tensors, arrays }));
    writeFileAtomic(path.join(base, 'latest.json'), JSON.stringify({ folder }));
    for (const old of fs.readdirSync(base)) {
      if (old.startsWith('epoch-') && old !== folder) fs.rmSync(path.join(base, old), { recursive: true, force: true });
    }
  }
}
