/**
 * The report's and the view's Node-side parts: decimation keeps the envelope, the URL state round-trips,
 * and bad input (not a run folder, truncated metrics, a truncated trace, a port in use) is one clear error
 * with nothing written.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/app/report/report.js';
import { formatViewState, parseViewState, type ViewState } from '../../src/app/view/manifest.js';
import { DataError, SpecError } from '../../src/base/errors.js';
import { decimateMinMax } from '../../src/runs/plot/decimate.js';
import { renderFigureSvg, wrapText } from '../../src/runs/plot/svg.js';
import { learningCurves } from '../../src/runs/plot/run-figures.js';
import { traceFigures } from '../../src/app/report/report-model.js';
import { makeRng } from '../../src/base/rng.js';
import { makeRunFolders } from './fixtures.js';

describe('decimateMinMax', () => {
  it('keeps every bucket extreme, the ends, and at most 3·buckets + 1 points', () => {
    const rng = makeRng(7);
    for (const n of [10, 1000, 12345]) {
      const x = Array.from({ length: n }, (_, i) => i);
      const y = x.map(() => rng.uniform() * 2 - 1);
      y[Math.floor(n / 3)] = 50; // a spike plain striding would step over
      const d = decimateMinMax(x, y, 100);
      expect(d.x.length).toBeLessThanOrEqual(Math.max(n, 3 * 100 + 1) === n ? n : 301);
      expect(d.x[0]).toBe(0);
      expect(d.x.at(-1)).toBe(n - 1);
      expect(Math.max(...d.y)).toBe(Math.max(...y));
      expect(Math.min(...d.y)).toBe(Math.min(...y));
      // x stays increasing, and every kept point is a real point
      for (let i = 1; i < d.x.length; i++) expect(d.x[i]!).toBeGreaterThan(d.x[i - 1]!);
      d.kept.forEach((k, i) => expect(d.y[i]).toBe(y[k]));
    }
  });
});

describe('wrapText', () => {
  it('never puts more characters on a line than fit at the estimated width', () => {
    const text = 'equilibrium-prop 784-256-10 (equilibrium-propagation, T = 20) (gradient unrolled); unrolled — a title far longer than one line of a 760-pixel picture';
    const lines = wrapText(text, 400, 15);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(Math.floor(400 / (0.62 * 15)));
    expect(lines.join(' ').replace(/- /g, '')).toContain('far longer');
  });
});

describe('trace charts', () => {
  const trace = (name: string, shape: number[], data: Float32Array | Int32Array) => ({ name, shape, data });
  it('plot only step-axis float traces, one chart per quantity wherever its name puts it', () => {
    const figures = traceFigures([
      trace('labels', [4], Int32Array.from([3, 1, 4, 1])),
      trace('clean-class', [3, 4], new Int32Array(12)),
      trace('clean-energy', [3, 4], Float32Array.from({ length: 12 }, (_, i) => -i)),
      trace('adversarial-energy', [3, 4], new Float32Array(12)),
      trace('clean-distance', [3, 4], new Float32Array(12).fill(2)),
      trace('energy-noise-0.2', [3], Float32Array.from([3, 2, 1])),
      trace('final-state', [1, 4], new Float32Array(4)),
    ]);
    expect(figures.map((f) => f.id)).toEqual(['trace-energy', 'trace-distance']);
    const energy = figures[0]!;
    if (energy.kind !== 'line') throw new Error('a line chart');
    expect(energy.y.label).toBe('energy');
    expect(energy.x).toEqual({ label: 'relaxation step', integer: true });
    expect(energy.series.map((s) => s.name)).toEqual(['adversarial', 'clean', 'noise 0.2']);
    // The mean over the batch at each step: clean-energy's step 1 holds -4..-7.
    expect(energy.series[1]!.y).toEqual([-1.5, -5.5, -9.5]);
  });
});

describe('integer axes', () => {
  it('a one-epoch learning curve has one tick, reading "1"', async () => {
    const { parseHTML } = await import('linkedom');
    const figure = learningCurves([{ epoch: 0, test_accuracy: 0.5, train_accuracy: 0.4 }], 'one epoch')!;
    const svg = renderFigureSvg(figure);
    const { document } = parseHTML(`<div>${svg}</div>`);
    const ticks = Array.from(document.querySelectorAll('[aria-label="x-axis tick label"] text')).map((t) => (t as unknown as { textContent: string }).textContent);
    expect(ticks).toEqual(['1']);
    // A constant y (one point) gets a padded axis with round ticks, not one tick with all the value's digits.
    const seconds = renderFigureSvg({ kind: 'line', id: 'seconds', title: 'seconds against epoch', x: { label: 'epoch', integer: true }, y: { label: 'seconds' }, series: [{ name: 'seconds', x: [0], y: [22.967264] }] });
    const yTicks = Array.from(parseHTML(`<div>${seconds}</div>`).document.querySelectorAll('[aria-label="y-axis tick label"] text')).map((t) => (t as unknown as { textContent: string }).textContent);
    expect(yTicks.length).toBeGreaterThan(2);
    for (const t of yTicks) expect(t.length).toBeLessThanOrEqual(4);
    // A job that counts epochs from 1 (EP) reads the same.
    const fromOne = learningCurves([{ method: 'ep', epoch: 1, test_accuracy: 0.5 }], 'one epoch, counted from 1')!;
    expect(fromOne.series[0]!.x).toEqual([1]);
  });
});

describe('view state in the URL', () => {
  it('round-trips, and malformed values fall back to the defaults', () => {
    const state: ViewState = { example: 17, corruption: 'mnist-c/fog', severity: 3, attack: '', eps: 0.1, step: 9, speed: 5, mode: 'server', backend: 'webgl' };
    expect(parseViewState(formatViewState(state))).toEqual(state);
    const attacked: ViewState = { ...state, corruption: '', severity: 1, attack: 'pgd', eps: 0.05, mode: 'browser', backend: '' };
    expect(formatViewState(attacked)).toBe('?example=17&attack=pgd&eps=0.05&step=9&speed=5');
    expect(parseViewState(formatViewState(attacked))).toEqual(attacked);
    expect(parseViewState('?example=-2&step=x&speed=0&attack=cw&eps=3&backend=metal')).toEqual({ example: 0, corruption: '', severity: 1, attack: '', eps: 0.1, step: 0, speed: 1, mode: 'browser', backend: '' });
    // An attack replaces a corruption: the perturbed column shows one of them.
    expect(parseViewState('?attack=fgsm&eps=0.2&corruption=mnist-c/fog').corruption).toBe('');
  });
});

describe('bad input', () => {
  let root: string;
  let hopfield: string;
  beforeAll(async () => {
    const f = await makeRunFolders(['hopfield']);
    root = f.root;
    hopfield = f.hopfield;
  }, 300_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const copy = (name: string) => {
    const dir = path.join(root, name);
    fs.cpSync(hopfield, dir, { recursive: true });
    return dir;
  };
  const expectNoReport = (dir: string, out: string, error: RegExp) => {
    expect(() => writeReport([dir], out)).toThrow(error);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(path.dirname(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  };

  it('a real run folder gives a report', () => {
    const out = path.join(root, 'ok.html');
    const { bytes, runs } = writeReport([hopfield], out);
    expect(fs.statSync(out).size).toBe(bytes);
    expect(runs[0]!.figures.map((f) => f.id)).toContain('trace-energy');
  });

  it('a folder that is not a run folder, or a file', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-not-a-run-'));
    try {
      expectNoReport(empty, path.join(root, 'a.html'), /is not a run folder: it holds none of summary.json, spec.json, metrics.jsonl/);
      expectNoReport(path.join(hopfield, 'spec.json'), path.join(root, 'b.html'), /is a file, not a run folder/);
      expectNoReport(path.join(root, 'missing'), path.join(root, 'c.html'), /does not exist/);
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });

  it('a truncated metrics.jsonl names the file and line', () => {
    const dir = copy('truncated-metrics');
    const file = path.join(dir, 'metrics.jsonl');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, text.length - 20));
    expectNoReport(dir, path.join(root, 'd.html'), /metrics.jsonl, line 3: not a JSON record/);
  });

  it('a truncated or missing trace', () => {
    const dir = copy('truncated-trace');
    const trace = path.join(dir, 'traces', 'energy-noise-0.2.npy');
    const bytes = fs.readFileSync(trace);
    fs.writeFileSync(trace, bytes.subarray(0, bytes.length - 40));
    expectNoReport(dir, path.join(root, 'e.html'), /energy-noise-0\.2\.npy: not a readable \.npy array \(the \.npy data is cut short: shape \(\d+\)/);
    fs.writeFileSync(trace, bytes.subarray(0, 30));
    expectNoReport(dir, path.join(root, 'f.html'), /energy-noise-0\.2\.npy: not a readable \.npy array/);
  });

  it('a damaged summary.json', () => {
    const dir = copy('bad-summary');
    fs.writeFileSync(path.join(dir, 'summary.json'), '{"spec": "hopf');
    expectNoReport(dir, path.join(root, 'g.html'), /summary.json: the summary is not a JSON object/);
  });

  it('errors are typed (one line on the CLI, no stack)', () => {
    expect(() => writeReport([path.join(root, 'missing')], path.join(root, 'h.html'))).toThrow(DataError);
    expect(() => writeReport([], path.join(root, 'h.html'))).toThrow(SpecError);
    expect(() => writeReport([hopfield], path.join(root, 'no-such-folder', 'x.html'))).toThrow(/--out: the folder .* does not exist/);
  });

  it('a port in use', async () => {
    const { startViewServer } = await import('../../src/app/view/server.js');
    const { loadViewSource } = await import('../../src/app/view/source.js');
    const { useBackend } = await import('../../src/tensor/index.js');
    await useBackend('wasm');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const source = loadViewSource(path.join(hopfield, 'spec.json'));
    try {
      await expect(startViewServer(source, port)).rejects.toThrow(new RegExp(`--port: port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
      const tf = await import('@tensorflow/tfjs-core');
      tf.dispose(Object.values(source.params));
    }
    expect(() => loadViewSource(root)).toThrow(/is not a run folder of a model: it has no spec.json/);
  });
});
