/**
 * The bad-input corpus: each row is a command line and the files it meets, run through the real CLI
 * (dist/src/cli/main.js, built by `npx tsc -p tsconfig.build.json`) as a child process, with the exit
 * code and the message fragment it must give. Every failing row must end with one `neurodyn: error:` line
 * (a NeurodynError: 2 spec, 3 data, 6 output), never exit 70 (internal) or a stack trace, and must leave no
 * half-written file (`.partial-`, `.tmp-`, a lock) behind. The last test prints clean / total.
 *
 * Classes (issue 17, item 4): spec checks shared by validate and run, output-side file-system errors,
 * corrupted run folders and checkpoints, a run folder of another family, oversized specs, the data folder,
 * --resume without --out, concurrent runs into one --out.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRun } from '../../src/app/execute.js';
import { encodeNpy } from '../../src/export/npy.js';
import { checkpointDirFor, openCheckpoints } from '../../src/runs/checkpoints.js';
import { loadSpecFile } from '../../src/spec/parse.js';

const CLI = path.resolve('dist/src/cli/main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-bad-inputs-'));
const fixtures = path.join(root, 'fixtures');

/** A tiny EP training (seconds): the run folder every corrupted-folder row starts from. */
const EP_TINY = {
  name: 'ep-tiny',
  seed: 0,
  backend: 'wasm',
  system: { kind: 'equilibrium-prop', layers: [8, 10], output: 'softmax-ce' },
  run: { maxSteps: 5 },
  job: { kind: 'ep-train', nudgedSteps: 2, beta: 0.5, optimizer: { kind: 'sgd', lr: [0.05, 0.02] }, batchSize: 20, epochs: 1, trainLimit: 40, testLimit: 40 },
};
const HOPFIELD = { name: 't', seed: 0, backend: 'cpu', system: { kind: 'hopfield' }, run: { dt: 0.1, maxSteps: 10 }, job: { kind: 'hopfield-recall', cues: 10, noise: [0.1] } };

type Json = Record<string, any>;
/** A shipped sim, as the base of an edited row. */
const simFile = (name: string): Json => JSON.parse(fs.readFileSync(path.join('sims', `${name}.json`), 'utf8'));
const edit = (base: Json, change: (s: Json) => void): Json => {
  const copy = structuredClone(base);
  change(copy);
  return copy;
};

interface Case {
  readonly name: string;
  /** Builds what the command meets, in `dir` (also the command's working folder). */
  readonly setup?: (dir: string) => void;
  readonly args: (dir: string) => string[];
  readonly exit: number;
  /** On stderr for a failure, on stdout + stderr for a success. */
  readonly message: RegExp;
  /** Extra checks on the folder afterwards. */
  readonly after?: (dir: string) => void;
}

const writeJson = (file: string, value: unknown) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
};
const spec = (dir: string, value: unknown, name = 'spec.json') => {
  writeJson(path.join(dir, name), value);
  return path.join(dir, name);
};
/** A copy of the trained EP run folder in `dir/run`. */
const run = (dir: string) => {
  fs.cpSync(path.join(fixtures, 'ep-run'), path.join(dir, 'run'), { recursive: true });
  return path.join(dir, 'run');
};
/** A .npy file written by hand: any descr, any body. */
const rawNpy = (descr: string, shape: number[], body: Uint8Array) => {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
};
const w1 = (dir: string) => path.join(dir, 'run', 'model', 'W1.npy');
const modelJson = (dir: string) => path.join(dir, 'run', 'model', 'model.json');
const energyOf = (target: string, ...more: string[]) => ['energy', target, '--count', '4', '--profile', 'loihi2', ...more];
/** A saved checkpoint of EP_TINY for the run that will end at `dest`, as the job would write it. */
const checkpoint = (dest: string, specFile: string) => {
  const store = openCheckpoints(dest, loadSpecFile(specFile), false);
  const t = tf.zeros([2, 2]);
  store.save('ep', { epoch: 1, tensors: { W1: t }, arrays: {}, record: { history: [], optimizerStep: 1 } });
  t.dispose();
  return path.join(checkpointDirFor(dest), 'ep');
};

const CASES: Case[] = [
  // --- One validation path: validate refuses what run refuses, with the same message.
  ...(
    [
      ['last layer other than the class count', (s: Json) => (s.system.layers = [8, 7]), /system\.layers: the last layer has 7 units but mnist-embedded has 10 classes; make the last width 10/],
      ['one learning rate for two layers', (s: Json) => (s.job.optimizer.lr = [0.1]), /job\.optimizer\.lr: gives 1 rate for a network of 2 layers/],
      ['an integrator on EP', (s: Json) => (s.run.integrator = 'euler'), /run\.integrator: equilibrium-prop is a discrete map/],
      ['run.converge on EP', (s: Json) => (s.run.converge = { tolerance: 1e-4 }), /run\.converge: EP training relaxes exactly T1/],
      ['widths of 1e6 (fails before allocating, with the memory)', (s: Json) => (s.system.layers = [1_000_000, 10]), /system\.layers: widths \[784, 1000000, 10\] need 7\.95e\+8 weights, 3\.0 GiB .* at most 2\.0 GiB/],
    ] as const
  ).flatMap(([what, change, message]): Case[] =>
    ['validate', 'run'].map((command) => ({
      name: `${command}: ${what}`,
      args: (dir) => [command, spec(dir, edit(EP_TINY, change)), ...(command === 'run' ? ['--quiet', '--out', path.join(dir, 'out')] : [])],
      exit: 2,
      message,
      after: (dir) => expect(fs.existsSync(path.join(dir, 'out'))).toBe(false),
    })),
  ),
  // Oversized specs of the other families: refused at validation, with the estimated memory and the limit.
  ...(
    [
      ['LCA with 1e8 features', { name: 'lca', seed: 0, backend: 'cpu', system: { kind: 'lca', features: 100_000_000 }, run: { maxSteps: 10 }, job: { kind: 'lca-dictionary', epochs: 1 } }, /system\.features: a dictionary of 100000000 atoms of 784 values: .* 292 GiB .* at most 2\.00 GiB/],
      ['Hopfield with 1e9 cues', edit(HOPFIELD, (s) => (s.job.cues = 1_000_000_000)), /job\.cues: 1000000000 cues of 784 values .* at most 2\.00 GiB/],
      ['LCA-conv with 1e8 features', edit(simFile('lcanet-mnist'), (s) => (s.system.features = 100_000_000)), /system\.features: a dictionary of 100000000 atoms of 1×7×7: .* 18\.3 GiB .* at most 2\.00 GiB/],
      ['Predify with 1e5 channels', edit(simFile('predify-fashion'), (s) => ((s.data = { name: 'mnist-embedded' }), (s.system.channels = [100_000, 100_000, 32]))), /system\.channels: conv blocks \[100000, 100000, 32\] .* GiB .* at most 2\.00 GiB/],
      ['a probe over 1e9 steps', edit(HOPFIELD, (s) => ((s.run.maxSteps = 1_000_000_000), (s.probes = [{ variable: 'u' }]))), /probes\[0\]\.every: probe "u" records 1\.00e\+9 samples .* 59\.6 GiB .* at most 2\.00 GiB/],
    ] as const
  ).flatMap(([what, raw, message]): Case[] =>
    ['validate', 'run'].map((command) => ({
      name: `${command}: ${what} (fails before allocating, with the memory)`,
      args: (dir) => [command, spec(dir, raw as Json), ...(command === 'run' ? ['--quiet', '--out', path.join(dir, 'out')] : [])],
      exit: 2,
      message,
      after: (dir) => expect(fs.existsSync(path.join(dir, 'out'))).toBe(false),
    })),
  ),
  {
    name: 'attack --eps outside the input range names what is allowed',
    args: (dir) => ['attack', spec(dir, HOPFIELD), '--eps', '0,0.1', '--quiet', '--out', path.join(dir, 'out')],
    exit: 2,
    message: /--eps: ε = 0 is outside the input range; allowed under linf: 0 < ε < 1/,
    after: (dir) => expect(fs.existsSync(path.join(dir, 'out'))).toBe(false),
  },
  {
    name: 'validate: every problem at once, unknown fields with a did-you-mean',
    args: (dir) => ['validate', spec(dir, edit(EP_TINY, (s) => ((s.sedd = 1), (s.run.maxStep = 3), (s.system.activaton = 'relu'))))],
    exit: 2,
    message: /unknown field "activaton" \(did you mean "activation"\?\)[^]*unknown field "maxStep" \(did you mean "maxSteps"\?\)[^]*unknown field "sedd" \(did you mean "seed"\?\)/,
  },
  {
    name: 'validate sims/*.json: the JSON Schema file is skipped, the specs validated',
    setup: (dir) => {
      fs.copyFileSync(path.resolve('sims/sim.schema.json'), path.join(dir, 'sim.schema.json'));
      spec(dir, HOPFIELD, 'a.json');
    },
    args: (dir) => ['validate', path.join(dir, 'a.json'), path.join(dir, 'sim.schema.json')],
    exit: 0,
    message: /ok {2}.*a\.json \(hopfield[^]*skip .*sim\.schema\.json \(a JSON Schema/,
  },
  {
    name: '--data-dir on the bundled mnist-embedded is refused, not ignored',
    args: (dir) => ['run', spec(dir, EP_TINY), '--data-dir', dir, '--quiet', '--out', path.join(dir, 'out')],
    exit: 2,
    message: /data\.dataDir: dataset "mnist-embedded" is bundled and reads no folder/,
  },
  {
    name: '--data-dir is applied before validation (idx-folder spec without dataDir)',
    args: (dir) => ['run', spec(dir, edit(EP_TINY, (s) => (s.data = { name: 'idx-folder' }))), '--data-dir', path.join(dir, 'empty'), '--quiet', '--out', path.join(dir, 'out')],
    setup: (dir) => fs.mkdirSync(path.join(dir, 'empty')),
    exit: 3,
    message: /empty is not a complete MNIST-format folder: missing/,
  },
  // --- Output-side file-system errors.
  {
    name: 'run --out: an existing file',
    setup: (dir) => fs.writeFileSync(path.join(dir, 'taken'), 'x'),
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'taken')],
    exit: 2,
    message: /--out: .*taken already exists and is not an empty folder/,
    after: (dir) => expect(fs.readFileSync(path.join(dir, 'taken'), 'utf8')).toBe('x'),
  },
  {
    name: 'run --out: a folder that is not empty',
    setup: (dir) => writeJson(path.join(dir, 'full', 'keep.txt'), 'keep'),
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'full')],
    exit: 2,
    message: /--out: .*full already exists and is not an empty folder/,
  },
  {
    name: 'run --out: under a file (a file where a folder is needed)',
    setup: (dir) => fs.writeFileSync(path.join(dir, 'plain'), 'x'),
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'plain', 'sub', 'out')],
    exit: 6,
    message: /cannot write .*plain\/sub\/out: .*plain is a file, not a folder/,
  },
  {
    name: 'run --out: missing parent folders are created',
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'a', 'b', 'c')],
    exit: 0,
    message: /run folder .*c\/: /,
    after: (dir) => expect(fs.existsSync(path.join(dir, 'a', 'b', 'c', 'summary.json'))).toBe(true),
  },
  {
    name: 'run --out: inside /proc (recursive mkdir would spin)',
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', '/proc/neurodyn-bad-input/run'],
    exit: 2,
    message: /--out: \/proc\/neurodyn-bad-input\/run is inside \/proc, a kernel folder/,
  },
  {
    name: 'run --out: inside /sys (not permitted)',
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', '/sys/neurodyn-bad-input'],
    exit: 2,
    message: /--out: \/sys\/neurodyn-bad-input is inside \/sys, a kernel folder/,
  },
  {
    name: 'run --out: a name too long for the file system',
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'n'.repeat(250))],
    exit: 2,
    message: /--out: the name "n{37}\.\.\." is 250 bytes; names here must stay under 231 bytes/,
  },
  {
    name: 'run --out: a symbolic link to a folder',
    setup: (dir) => {
      fs.mkdirSync(path.join(dir, 'real'));
      fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    },
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'link')],
    exit: 2,
    message: /--out: .*link is a symbolic link to .*real; pass the real path/,
  },
  {
    name: 'run --out: a dangling symbolic link',
    setup: (dir) => fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling')),
    args: (dir) => ['run', spec(dir, HOPFIELD), '--quiet', '--out', path.join(dir, 'dangling')],
    exit: 2,
    message: /--out: .*dangling is a symbolic link to .*nowhere, which does not exist \(a dangling link\)/,
  },
  {
    name: 'schema --out: under a file',
    setup: (dir) => fs.writeFileSync(path.join(dir, 'plain'), 'x'),
    args: (dir) => ['schema', '--out', path.join(dir, 'plain', 'schema.json')],
    exit: 6,
    message: /cannot write .*plain\/schema\.json: .*plain is a file, not a folder/,
  },
  {
    name: 'schema --out: missing parents are created',
    args: (dir) => ['schema', '--out', path.join(dir, 'x', 'y', 'schema.json')],
    exit: 0,
    message: /^$/,
    after: (dir) => expect(JSON.parse(fs.readFileSync(path.join(dir, 'x', 'y', 'schema.json'), 'utf8')).type).toBe('object'),
  },
  {
    name: 'export --out: inside /proc',
    setup: run,
    args: (dir) => ['export', path.join(dir, 'run'), '--format', 'npz', '--out', '/proc/neurodyn.npz'],
    exit: 2,
    message: /--out: \/proc\/neurodyn\.npz is inside \/proc/,
  },
  {
    name: 'export --out: an existing folder',
    setup: run,
    args: (dir) => ['export', path.join(dir, 'run'), '--format', 'npz', '--out', dir],
    exit: 2,
    message: /--out: .* is a folder; give a file name inside it/,
  },
  {
    name: 'export --out: missing parents are created',
    setup: run,
    args: (dir) => ['export', path.join(dir, 'run'), '--format', 'npz', '--out', path.join(dir, 'new', 'deeper', 'w.npz')],
    exit: 0,
    message: /written: .*new\/deeper\/w\.npz/,
  },
  {
    name: 'energy --out: an existing folder (refused before measuring)',
    setup: run,
    args: (dir) => energyOf(path.join(dir, 'run'), '--out', dir),
    exit: 2,
    message: /--out: .* is a folder; give a file name inside it/,
  },
  {
    name: 'report --out: inside /proc',
    setup: run,
    args: (dir) => ['report', path.join(dir, 'run'), '--out', '/proc/neurodyn.html'],
    exit: 2,
    message: /--out: \/proc\/neurodyn\.html is inside \/proc/,
  },
  // --- Corrupted run folders.
  {
    name: 'a truncated parameter .npy',
    setup: (dir) => {
      run(dir);
      const bytes = fs.readFileSync(w1(dir));
      fs.writeFileSync(w1(dir), bytes.subarray(0, bytes.length - 100));
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /parameter W1 .*W1\.npy: the \.npy data is cut short: shape \(784, 8\) of float32 needs 25088 bytes, the file holds 24988/,
  },
  {
    name: 'a garbage parameter .npy',
    setup: (dir) => {
      run(dir);
      fs.writeFileSync(w1(dir), 'this is not an array');
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /parameter W1 .*W1\.npy: not a \.npy file/,
  },
  {
    name: 'a missing parameter file',
    setup: (dir) => {
      run(dir);
      fs.rmSync(w1(dir));
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /cannot read parameter W1 .*W1\.npy: it is missing/,
  },
  {
    name: 'an unsupported npy dtype (int64)',
    setup: (dir) => {
      run(dir);
      fs.writeFileSync(w1(dir), rawNpy('<i8', [784, 8], new Uint8Array(784 * 8 * 8)));
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /W1\.npy: unsupported dtype <i8; read are <f4, <f8, <i4, \|u1/,
  },
  {
    name: 'a big-endian npy',
    setup: (dir) => {
      run(dir);
      fs.writeFileSync(w1(dir), rawNpy('>f4', [784, 8], new Uint8Array(784 * 8 * 4)));
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /W1\.npy: unsupported dtype >f4/,
  },
  {
    name: 'float64 weights (NumPy\'s default after an edit) load, with a note',
    setup: (dir) => {
      run(dir);
      const f32 = new Float32Array(new Uint8Array(fs.readFileSync(w1(dir))).buffer.slice(128));
      fs.writeFileSync(w1(dir), encodeNpy(Float64Array.from(f32, (v) => v + 1e-12), [784, 8]));
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 0,
    message: /neurodyn: note: .*W1\.npy holds float64; converted to float32 \(largest rounding change [\d.e+-]+\)[^]*written: /,
  },
  {
    name: 'bad JSON in model.json',
    setup: (dir) => {
      run(dir);
      fs.writeFileSync(modelJson(dir), '{"format": "neurodyn-model/1", ');
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /the model record .*model\.json is not valid JSON/,
  },
  {
    name: 'model.json and a tensor disagree on the shape',
    setup: (dir) => {
      run(dir);
      const model = JSON.parse(fs.readFileSync(modelJson(dir), 'utf8'));
      model.params[0].shape = [784, 9];
      writeJson(modelJson(dir), model);
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 3,
    message: /W1\.npy has shape \[784, 8\] but .*model\.json records \[784, 9\] for W1; the tensors and the model disagree/,
  },
  {
    name: 'bad JSON in the run folder\'s spec.json',
    setup: (dir) => {
      run(dir);
      fs.writeFileSync(path.join(dir, 'run', 'spec.json'), '{');
    },
    args: (dir) => energyOf(path.join(dir, 'run')),
    exit: 2,
    message: /spec\.json is not valid JSON/,
  },
  {
    name: 'spec.json of another family than the saved model',
    setup: (dir) => {
      run(dir);
      writeJson(path.join(dir, 'run', 'spec.json'), HOPFIELD);
    },
    args: (dir) => ['export', path.join(dir, 'run'), '--format', 'npz', '--out', path.join(dir, 'w.npz')],
    exit: 3,
    message: /spec\.json describes a hopfield system but model\/model\.json holds a equilibrium-prop model/,
  },
  // --- Profiles and data.
  {
    name: 'a profile with a zero capacity figure',
    setup: (dir) => {
      run(dir);
      const profile = JSON.parse(fs.readFileSync(path.resolve('hardware-profiles/loihi2.json'), 'utf8'));
      profile.id = 'zero';
      profile.capacity.neuronsPerCore.value = 0;
      writeJson(path.join(dir, 'zero.json'), profile);
    },
    args: (dir) => ['energy', path.join(dir, 'run'), '--count', '4', '--profile', path.join(dir, 'zero.json')],
    exit: 2,
    message: /zero\.json: capacity\.neuronsPerCore: a capacity must be positive, got 0/,
  },
  {
    name: '--count larger than the test set: a stated clamp',
    setup: run,
    args: (dir) => energyOf(path.join(dir, 'run')).map((a) => (a === '4' ? '5000' : a)),
    exit: 0,
    message: /--count 5000 is more than the 2000 test examples of mnist-embedded; using 2000[^]*: 2000 test inferences/,
  },
  {
    name: 'an empty data set (IDX files with no examples)',
    setup: (dir) => {
      const idx = (magic: number, dims: number[]) => {
        const b = Buffer.alloc(4 + 4 * dims.length);
        b.writeUInt32BE(magic, 0);
        dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
        return b;
      };
      const data = path.join(dir, 'idx');
      fs.mkdirSync(data);
      for (const part of ['train', 't10k']) {
        fs.writeFileSync(path.join(data, `${part}-images-idx3-ubyte`), idx(0x803, [0, 28, 28]));
        fs.writeFileSync(path.join(data, `${part}-labels-idx1-ubyte`), idx(0x801, [0]));
      }
    },
    args: (dir) => ['run', spec(dir, edit(EP_TINY, (s) => (s.data = { name: 'idx-folder' }))), '--data-dir', path.join(dir, 'idx'), '--quiet', '--out', path.join(dir, 'out')],
    exit: 3,
    message: /the train split of idx-folder in .*idx holds no examples/,
  },
  // --- Checkpoints and --resume.
  ...(
    [
      ['bad JSON in latest.json', (ckpt: string) => fs.writeFileSync(path.join(ckpt, 'latest.json'), '{"folder": '), /the checkpoint pointer .*latest\.json is not valid JSON/],
      ['bad JSON in record.json', (ckpt: string) => fs.writeFileSync(path.join(ckpt, 'epoch-1', 'record.json'), '[1, 2'), /the checkpoint record .*record\.json is not valid JSON/],
      ['a truncated checkpoint .npy', (ckpt: string) => fs.writeFileSync(path.join(ckpt, 'epoch-1', 'tensor-W1.npy'), fs.readFileSync(path.join(ckpt, 'epoch-1', 'tensor-W1.npy')).subarray(0, 130)), /checkpoint array W1 .*tensor-W1\.npy: the \.npy data is cut short/],
      ['latest.json naming no epoch', (ckpt: string) => fs.writeFileSync(path.join(ckpt, 'latest.json'), '{"folder": "../../etc"}'), /latest\.json does not name an epoch folder/],
    ] as const
  ).map(
    ([what, damage, message]): Case => ({
      name: `--resume: ${what}`,
      setup: (dir) => damage(checkpoint(path.join(dir, 'out'), spec(dir, EP_TINY))),
      args: (dir) => ['run', path.join(dir, 'spec.json'), '--resume', '--quiet', '--out', path.join(dir, 'out')],
      exit: 3,
      message,
      // The checkpoints stay for another try; no run folder appears.
      after: (dir) => {
        expect(fs.existsSync(checkpointDirFor(path.join(dir, 'out')))).toBe(true);
        expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
      },
    }),
  ),
  {
    name: '--resume without --out finds the newest checkpointed run of the spec under runs/',
    setup: (dir) => {
      const file = spec(dir, EP_TINY);
      checkpoint(path.join(dir, 'runs', 'ep-tiny-20260101-000000'), file);
      const newest = checkpoint(path.join(dir, 'runs', 'ep-tiny-20260102-000000'), file);
      fs.writeFileSync(path.join(newest, 'latest.json'), '{');
    },
    args: (dir) => ['run', path.join(dir, 'spec.json'), '--resume', '--quiet'],
    exit: 3,
    message: /\.ep-tiny-20260102-000000\.checkpoint\/ep\/latest\.json is not valid JSON/,
  },
  {
    name: '--resume without --out and no checkpoints',
    args: (dir) => ['run', spec(dir, EP_TINY), '--resume', '--quiet'],
    exit: 2,
    message: /--resume: no checkpoints of "ep-tiny" under runs\/ \(looked for runs\/\.ep-tiny-<time>\.checkpoint\)/,
  },
];

/** Every file under `dir` whose name says it was left half-written. */
function halfWritten(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (/\.partial-\d+$|\.tmp-\d+$|\.lock$/.test(e.name)) out.push(p);
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function runCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 240_000, env: { ...process.env, NEURODYN_DEBUG: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const results: { name: string; clean: boolean }[] = [];

beforeAll(async () => {
  expect(fs.existsSync(CLI), `build first: npx tsc -p tsconfig.build.json (${CLI})`).toBe(true);
  fs.mkdirSync(fixtures, { recursive: true });
  const file = spec(fixtures, EP_TINY, 'ep-tiny.json');
  await executeRun(loadSpecFile(file), { out: path.join(fixtures, 'ep-run'), quiet: true, say: () => {} });
}, 120_000);

afterAll(() => {
  const clean = results.filter((r) => r.clean).length;
  console.info(`bad-input corpus: ${clean} clean / ${results.length} total${clean < results.length ? `; not clean: ${results.filter((r) => !r.clean).map((r) => r.name).join('; ')}` : ''}`);
  fs.rmSync(root, { recursive: true, force: true });
});

describe.concurrent('bad-input corpus through the CLI', () => {
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const dir = path.join(root, `case-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      let clean = false;
      try {
        c.setup?.(dir);
        const r = await runCli(c.args(dir), dir);
        const detail = `${c.name}\nexit ${r.code}\nstdout: ${r.stdout.slice(-800)}\nstderr: ${r.stderr.slice(-1500)}`;
        expect(r.stderr, detail).not.toMatch(/internal error|\n\s+at /);
        expect(r.code, detail).toBe(c.exit);
        if (c.exit !== 0) {
          expect(r.stderr, detail).toMatch(/^neurodyn: error: /m);
          expect(r.stderr, detail).toMatch(c.message);
        } else expect(`${r.stderr}${r.stdout}`, detail).toMatch(c.message);
        expect(halfWritten(dir), detail).toEqual([]);
        c.after?.(dir);
        clean = true;
      } finally {
        results.push({ name: c.name, clean });
      }
    }, 300_000);
  });
});

describe('one --out at a time', () => {
  it('a second run, and a --resume, into the --out of a running one are refused naming its pid; Ctrl-C then prints the resume command', async () => {
    const dir = path.join(root, 'concurrent');
    fs.mkdirSync(dir, { recursive: true });
    const long = spec(dir, edit(EP_TINY, (s) => ((s.job.epochs = 200), (s.job.trainLimit = 2000))));
    const out = path.join(dir, 'out');
    const first = spawn(process.execPath, [CLI, 'run', long, '--quiet', '--out', out], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (d) => (firstErr += d));
    const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
    const lock = path.join(dir, '.out.lock');
    const ckpt = path.join(checkpointDirFor(out), 'ep', 'latest.json');
    const deadline = Date.now() + 240_000;
    while (!(fs.existsSync(lock) && fs.existsSync(ckpt)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(fs.readFileSync(lock, 'utf8').trim()).toBe(String(first.pid));
    let clean = false;
    try {
      for (const extra of [[], ['--resume']]) {
        const r = await runCli(['run', long, '--quiet', '--out', out, ...extra], dir);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`neurodyn: error: --out: another neurodyn process \\(pid ${first.pid}\\) is writing .*out`));
      }
      first.kill('SIGINT');
      expect(await firstDone).toBe(130);
      expect(firstErr).toMatch(/interrupted \(SIGINT\); the checkpoints are kept: continue with\n {2}neurodyn run .*spec\.json --resume --out out/);
      // Nothing half-written, no lock; the checkpoints stay for the resume.
      expect(halfWritten(dir)).toEqual([]);
      expect(fs.existsSync(ckpt)).toBe(true);
      expect(fs.existsSync(out)).toBe(false);
      clean = true;
    } finally {
      results.push({ name: 'concurrent runs into one --out, --resume while it runs, Ctrl-C', clean });
      first.kill('SIGKILL');
    }
  }, 400_000);
});
