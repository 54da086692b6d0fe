import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, SpecError } from '../../src/base/errors.js';
import { executeRun } from '../../src/app/execute.js';
import { loadSpecFile } from '../../src/spec/parse.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const corpus = path.join(here, 'malformed');

/** Each malformed spec and what its one-message error must say: the JSON path, the bad value, what is allowed. */
const expected: Record<string, RegExp[]> = {
  'invalid-json.json': [/invalid-json\.json is not valid JSON/],
  'wrong-type.json': [/run\.maxSteps: /, /expected number, received string/, /got "100"/],
  'unknown-system.json': [/system\.kind: unknown system kind "lcaa"; registered: "hopfield"/],
  'missing-run.json': [/run: required field is missing \(expected object\)/],
  'missing-max-steps.json': [/run\.maxSteps: required field is missing/],
  'negative-dt.json': [/run\.dt: /, />0/, /got -0\.1/],
  'zero-steps.json': [/run\.maxSteps: /, />=1/, /got 0/],
  'unknown-backend.json': [/backend: unknown backend "cuda"; registered: "wasm", "cpu", "tensorflow", "webgpu"/],
  'unknown-field.json': [/\(top level\): unknown field "sedd"/],
  'bad-gradient.json': [/run\.gradient: must be 'none', 'unrolled', 'truncated\(K\)'/, /got "bptt"/],
  'unknown-probe-variable.json': [/probes\[0\]\.variable: "v" is not a variable of hopfield; allowed: u, energy, readout/],
  'unknown-integrator.json': [/run\.integrator: unknown integrator "rk5"; registered: "map", "euler", "exponential-euler", "rk4"/],
  'noise-out-of-range.json': [/job\.noise\[1\]: /, /<=1/, /got 1\.5/],
  'bad-name.json': [/name: must be lower-case letters/, /got "my run"/],
  'unknown-dataset.json': [/data\.name: unknown dataset "imagenet"; registered: "mnist-embedded", "fashion-mnist", "idx-folder"/],
  'unknown-job.json': [/job\.kind: unknown job kind "train-all"; registered: "hopfield-recall"/],
  'negative-gain.json': [/system\.gain: /, />0/, /got -2/],
  'not-an-object.json': [/a spec is a JSON object; got \[1,2,3\]/],
};

describe('malformed specs give one clear message naming the path, the value and what is allowed', () => {
  it('the corpus and the table cover each other', () => {
    const files = fs.readdirSync(corpus).filter((f) => f !== 'unreadable-data-dir.json');
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });
  for (const [file, patterns] of Object.entries(expected)) {
    it(file, () => {
      let error: unknown;
      try {
        loadSpecFile(path.join(corpus, file));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SpecError);
      const message = (error as Error).message;
      expect(message).toContain(file);
      for (const p of patterns) expect(message).toMatch(p);
    });
  }
  it('a file that is not there', () => {
    expect(() => loadSpecFile(path.join(corpus, 'nope.json'))).toThrow(/cannot read spec .*nope\.json: no such file/);
  });
  it('a folder instead of a file', () => {
    expect(() => loadSpecFile(corpus)).toThrow(/it is a folder, not a file/);
  });
});

describe('a failing run leaves no run folder', () => {
  it('an unreadable data folder is a DataError before anything is written', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-run-'));
    const spec = loadSpecFile(path.join(corpus, 'unreadable-data-dir.json'));
    const out = path.join(root, 'out');
    await expect(executeRun(spec, { out, quiet: true, say: () => {} })).rejects.toThrow(DataError);
    await expect(executeRun(spec, { out, quiet: true, say: () => {} })).rejects.toThrow(/data folder "\/nonexistent\/fashion" does not exist/);
    expect(fs.readdirSync(root)).toEqual([]);
  });
  it('an invalid command-line override is a SpecError naming the option', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-run-'));
    const spec = loadSpecFile(path.join(here, 'valid-small.json'));
    await expect(executeRun(spec, { out: path.join(root, 'out'), backend: 'tpu', quiet: true, say: () => {} })).rejects.toThrow(/backend: unknown backend "tpu"/);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});
