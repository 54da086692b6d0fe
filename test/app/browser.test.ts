/// <reference lib="dom" />
/**
 * The report and the live view in Debian's Chromium (headless, playwright-core): the report of real run
 * folders loads with no console error, no network request, and marks in every chart; every SVG picture a
 * job or command writes keeps each text inside its box; the live view of a trained EP network advances its
 * step counter, its energy falls, its WebGL relaxation matches the Node (wasm) one to float32 tolerance,
 * the server-streamed mode shows the same frames, and the URL round-trips the view's state. Screenshots go
 * to $NEURODYN_SCREENSHOTS (default: a temp folder, printed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/app/report/report.js';
import type { Frame } from '../../src/app/view/relaxation.js';
import { openRelaxation } from '../../src/app/view/relaxation.js';
import { cleanExample, corruptedExample, perturbedExample } from '../../src/app/view/perturb.js';
import { parseViewState } from '../../src/app/view/manifest.js';
import { startViewServer, type ViewServer } from '../../src/app/view/server.js';
import { loadViewSource } from '../../src/app/view/source.js';
import { viewModel } from '../../src/app/view/view-model.js';
import { renderFigureSvg } from '../../src/runs/plot/svg.js';
import { corruptionFigures, type MetricsRecord } from '../../src/runs/plot/run-figures.js';
import type { LineFigure } from '../../src/runs/plot/figure.js';
import { parameterFigure } from '../../src/app/sweep/results.js';
import { pcVsBpFigure, type PcEpochRecord } from '../../src/families/predictive-coding/job-pc-vs-bp.js';
import { predifyFigures } from '../../src/families/predictive-coding/job-predify.js';
import { cnnfFigures } from '../../src/families/cnn-f/job.js';
import { noiseFigure } from '../../src/families/jobs/similarity-regularized.js';
import { perStepFigure } from '../../src/families/equilibrium-prop/attractor-demo-job.js';
import { liveTensorCount, useBackend } from '../../src/tensor/index.js';
import { chromiumMissing, launchChromium, type LaunchedBrowser } from './chromium.js';
import { makeRunFolders, type RunFolders } from './fixtures.js';

const missing = chromiumMissing();
if (missing) console.warn(`skipping the Chromium tests: ${missing}`);

const shots = process.env.NEURODYN_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'neurodyn-screens-'));

describe.skipIf(missing !== undefined)('in Chromium', () => {
  let folders: RunFolders;
  let chrome: LaunchedBrowser;
  beforeAll(async () => {
    fs.mkdirSync(shots, { recursive: true });
    console.log(`screenshots in ${shots}`);
    await useBackend('wasm');
    [folders, chrome] = await Promise.all([makeRunFolders(), launchChromium()]);
  }, 600_000);
  afterAll(async () => {
    await chrome?.close();
    if (folders) fs.rmSync(folders.root, { recursive: true, force: true });
  });

  /** A page that records console errors, page errors and every request that is not file: or data:. */
  async function openPage(width = 1400, height = 900) {
    const page = await chrome.browser.newPage({ viewport: { width, height } });
    const problems: string[] = [];
    const external: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (r) => !/^(file|data):/.test(r.url()) && external.push(r.url()));
    return { page, problems, external };
  }

  it('the report of real run folders draws every chart, offline, without errors', async () => {
    const out = path.join(folders.root, 'report.html');
    const { runs } = writeReport([folders.hopfield, folders.ep, folders.attack, folders.corrupt], out);
    const figureCount = runs.reduce((n, r) => n + r.figures.length, 0);
    const { page, problems, external } = await openPage();
    await page.goto(`file://${out}`);
    await page.waitForFunction(() => document.documentElement.dataset.ready || document.documentElement.dataset.error, null, { timeout: 60_000 });
    expect(await page.evaluate(() => document.documentElement.dataset.error)).toBeUndefined();
    expect(Number(await page.evaluate(() => document.documentElement.dataset.ready))).toBe(figureCount);
    // Every chart has drawn marks: lines, dots, cells or bars inside its plot (the frame alone is not enough).
    const marks = await page.$$eval('.chart', (charts) => charts.map((c) => ({ id: (c as HTMLElement).dataset.figure, n: c.querySelectorAll('svg [aria-label="line"] path, svg [aria-label="dot"] circle, svg [aria-label="cell"] rect, svg [aria-label="bar"] rect').length })));
    expect(marks.length).toBe(figureCount);
    for (const m of marks) expect(m.n, m.id).toBeGreaterThan(0);
    for (const id of ['learning-curves', 'accuracy-vs-eps', 'energy-trajectories', 'readout-accuracy-per-step', 'corruption-heatmap', 'accuracy-vs-severity', 'accuracy-per-step', 'trace-energy']) {
      expect(marks.map((m) => m.id)).toContain(id);
    }
    expect(problems).toEqual([]);
    expect(external).toEqual([]);
    await page.screenshot({ path: path.join(shots, 'report.png'), fullPage: true });
    await page.close();
  }, 120_000);

  /** Texts whose box leaves their own SVG (nested Plot SVGs included) or the picture, in CSS pixels. */
  async function overflowingTexts(page: Page, svg: string): Promise<string[]> {
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    return page.evaluate(() => {
      const out: string[] = [];
      const root = document.querySelector('body > svg')!.getBoundingClientRect();
      for (const t of Array.from(document.querySelectorAll('text'))) {
        if (!t.textContent?.trim()) continue;
        const r = t.getBoundingClientRect();
        const own = (t.closest('svg') as SVGSVGElement).getBoundingClientRect();
        for (const box of [root, own]) {
          if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5) {
            out.push(`"${t.textContent}" at [${r.left.toFixed(0)}, ${r.right.toFixed(0)}] × [${r.top.toFixed(0)}, ${r.bottom.toFixed(0)}] outside [${box.left.toFixed(0)}, ${box.right.toFixed(0)}] × [${box.top.toFixed(0)}, ${box.bottom.toFixed(0)}]`);
            break;
          }
        }
      }
      return out;
    });
  }

  it('no text of any picture a job or command writes overflows its box', async () => {
    const pictures: Array<[string, string]> = [];
    for (const dir of [folders.hopfield, folders.ep, folders.attack, folders.corrupt]) {
      for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.svg'))) pictures.push([`${path.basename(dir)}/${f}`, fs.readFileSync(path.join(dir, f), 'utf8')]);
    }
    expect(pictures.length).toBeGreaterThanOrEqual(8);
    const before = pictures.length;
    // The corruption pictures with all 21 corruptions and a long model name, as `neurodyn corrupt --corruptions all` writes them.
    const names = ['shot_noise', 'impulse_noise', 'glass_blur', 'motion_blur', 'shear', 'scale', 'rotate', 'brightness', 'translate', 'stripe', 'fog', 'spatter', 'dotted_line', 'zigzag', 'canny_edges'].map((n) => `mnist-c/${n}`);
    const graded = ['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise', 'gaussian_blur', 'contrast'].map((n) => `cifar-10-c/${n}`);
    const records: MetricsRecord[] = [
      { corruption: 'clean', severity: 0, accuracy: 0.97, steps: [0, 1, 2], accuracy_per_step: [0.1, 0.9, 0.97] },
      ...names.map((c, i) => ({ corruption: c, severity: 1, accuracy: 0.5 + i / 40, steps: [0, 1, 2], accuracy_per_step: [0.1, 0.5, 0.5 + i / 40] })),
      ...graded.flatMap((c, i) => [1, 2, 3, 4, 5].map((s) => ({ corruption: c, severity: s, accuracy: 0.9 - s * 0.1 - i / 50, steps: [0, 1, 2], accuracy_per_step: [0.1, 0.6, 0.9 - s * 0.1] }))),
    ];
    for (const f of corruptionFigures(records, 'equilibrium-prop 784-1000-10 (equilibrium-propagation, T = 20) on mnist-embedded, a model description long enough to wrap')) pictures.push([`all-corruptions/${f.id}.svg`, renderFigureSvg(f)]);
    // The pictures of the jobs too slow to run here (sweep, similarity, PC, Predify, CNN-F, attractor demo),
    // from the builders those jobs call, with names as long as theirs get.
    for (const f of otherJobFigures()) pictures.push([`jobs/${f.id}.svg`, renderFigureSvg(f)]);
    const { page } = await openPage();
    // The check itself catches an overflow: a label running past the right edge, and the old clipped title.
    expect(await overflowingTexts(page, '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><text x="60" y="20">a label far too long</text></svg>')).toHaveLength(1);
    const failures: string[] = [];
    for (const [name, svg] of pictures) {
      for (const o of await overflowingTexts(page, svg)) failures.push(`${name}: ${o}`);
    }
    const heat = pictures.find(([n]) => n === 'all-corruptions/corruption-heatmap.svg')!;
    await page.setContent(heat[1]);
    await page.screenshot({ path: path.join(shots, 'corruption-heatmap.png'), fullPage: true });
    expect(pictures.length - before).toBeGreaterThanOrEqual(16);
    for (const id of ['sweep-job.optimizer.lr', 'pc-vs-bp', 'accuracy-vs-timestep', 'curves', 'robustness', 'noise-gaussian', 'energy-per-step']) {
      const picture = pictures.find(([n]) => n === `jobs/${id}.svg`)!;
      await page.setContent(picture[1]);
      await page.screenshot({ path: path.join(shots, `job-${id}.png`), fullPage: true });
    }
    await page.setContent(fs.readFileSync(path.join(folders.attack, 'accuracy-vs-eps.svg'), 'utf8'));
    await page.screenshot({ path: path.join(shots, 'accuracy-vs-eps.png'), fullPage: true });
    await page.close();
    expect(failures).toEqual([]);
  }, 120_000);

  describe('the live view of a trained EP network', () => {
    let server: ViewServer;
    const example = 2;
    const corruption = 'mnist-c/fog';
    beforeAll(async () => {
      server = await startViewServer(loadViewSource(folders.ep), 0);
    }, 60_000);
    afterAll(async () => server?.close());

    /** The page's frames once it has played to the end (or to the step in its URL). */
    async function play(query: string) {
      const { page, problems } = await openPage(1300, 900);
      await page.goto(`${server.url}${query}`);
      await page.waitForFunction(() => {
        const n = (window as unknown as { __neurodyn?: { error?: string; playing: boolean; frames: { clean: unknown[] } } }).__neurodyn;
        return n && (n.error || (n.frames.clean.length > 0 && !n.playing));
      }, null, { timeout: 120_000 });
      const state = await page.evaluate(() => (window as unknown as { __neurodyn: unknown }).__neurodyn);
      return { page, problems, state: state as ViewExposed };
    }

    /** The same relaxation in Node on wasm, one step per call as the page does (of `given`, or of the clean or corrupted example). */
    function nodeFrames(which: 'clean' | 'perturbed', given?: readonly number[]): Frame[] {
      const source = loadViewSource(folders.ep);
      const { manifest } = source;
      const before = liveTensorCount();
      const model = viewModel(manifest, source.params);
      const image = given
        ? Float32Array.from(given)
        : which === 'clean'
          ? cleanExample(source.images, example, 784)
          : corruptedExample(source.images, example, manifest.imageShape[0], manifest.imageShape[1], corruption, 1, manifest.seed);
      const r = openRelaxation(model, image);
      const frames: Frame[] = [];
      while (r.steps() < manifest.run.maxSteps) frames.push(...r.advance(1));
      // The same relaxation as one simulate() call: stepping must not change the states.
      const once = openRelaxation(model, image);
      const [, last] = once.advance(manifest.run.maxSteps);
      expect(maxRelative(last!, frames.at(-1)!)).toBeLessThan(1e-6);
      r.dispose();
      once.dispose();
      model.dispose();
      expect(liveTensorCount()).toBe(before - Object.keys(source.params).length);
      return frames;
    }

    it('relaxes in the page on WebGL: the step counter advances, the energy falls, and it matches Node to float32 tolerance', async () => {
      const { page, problems, state } = await play(`?example=${example}&corruption=${encodeURIComponent(corruption)}&severity=1&backend=webgl`);
      expect(state.error).toBeUndefined();
      expect(state.mode).toBe('browser');
      expect(state.backend).toBe('webgl');
      expect(await page.$eval('[data-mode]', (e) => e.textContent)).toContain('in the browser');
      const steps = tinySteps();
      expect(state.frames.clean.map((f) => f.step)).toEqual(Array.from({ length: steps + 1 }, (_, i) => i));
      expect(await page.$eval('[data-step]', (e) => (e as HTMLElement).dataset.step)).toBe(String(steps));
      for (const which of ['clean', 'perturbed'] as const) {
        const energy = state.frames[which].map((f) => f.energy!);
        expect(energy.at(-1)!).toBeLessThan(energy[0]!);
        const node = nodeFrames(which);
        const worst = Math.max(...node.map((f, i) => maxRelative(f, state.frames[which][i]!)));
        console.log(`${which}: largest relative difference WebGL (Chromium) vs wasm (Node) over ${node.length} frames: ${worst.toExponential(2)}`);
        expect(worst).toBeLessThan(2e-3);
      }
      // The URL now holds the view's state, and the step it stopped at.
      const url = new URL(page.url());
      expect(Object.fromEntries(url.searchParams)).toEqual({ example: String(example), corruption, severity: '1', step: String(steps), speed: '1', backend: 'webgl' });
      expect(problems).toEqual([]);
      await page.screenshot({ path: path.join(shots, 'view-ep.png') });
      await page.close();
    }, 180_000);

    it('WebGPU: the page says why it is not the default, and backend=webgpu either matches Node or stops with the reason', async () => {
      const plain = await play(`?example=${example}`);
      expect(plain.state.backend).toBe('webgl');
      expect(await plain.page.$eval('[data-mode]', (e) => e.textContent)).toContain('not WebGPU: tfjs-backend-webgpu');
      await plain.page.close();
      const { page, state } = await play(`?example=${example}&backend=webgpu`);
      expect(state.backend).toBe('webgpu');
      const node = nodeFrames('clean');
      if (state.error) {
        console.log(`backend=webgpu stopped after ${state.frames.clean.length} frames: ${state.error}; device lost: ${state.deviceLost}`);
        expect(`${state.error} ${state.deviceLost}`).toMatch(/createBuffer|Instance reference/);
        expect(await page.$eval('[data-error]', (e) => e.textContent)).toContain('The relaxation stopped');
      } else {
        const worst = Math.max(...node.map((f, i) => maxRelative(f, state.frames.clean[i]!)));
        console.log(`backend=webgpu relaxed all ${node.length} frames; largest relative difference WebGPU (Chromium, SwiftShader) vs wasm (Node): ${worst.toExponential(2)}`);
        expect(state.frames.clean.length).toBe(node.length);
        expect(worst).toBeLessThan(2e-3);
      }
      await page.close();
    }, 180_000);

    /** max |a − b| over the pixels. */
    const linf = (a: readonly number[], b: readonly number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

    for (const [attack, eps] of [['fgsm', 0.1], ['pgd', 0.05]] as const) {
      it(`${attack} at ε = ${eps} in the page: the adversarial relaxation appears beside the clean one, within ε in L∞, as Node computes it`, async () => {
        const { page, problems, state } = await play(`?example=${example}&attack=${attack}&eps=${eps}&backend=webgl`);
        expect(state.error).toBeUndefined();
        expect(state.attackedBy).toBe('page');
        expect(await page.$eval('[data-attack-mode]', (e) => e.textContent)).toContain('computed in this page');
        const steps = tinySteps();
        expect(state.frames.perturbed.map((f) => f.step)).toEqual(Array.from({ length: steps + 1 }, (_, i) => i));
        const clean = state.inputs.clean!;
        const adversarial = state.inputs.perturbed!;
        const distance = linf(adversarial, clean);
        console.log(`${attack} ε ${eps}: L∞ distance of the page's adversarial input ${distance.toFixed(6)}; ${state.perturbedTitle}`);
        expect(distance).toBeLessThanOrEqual(eps * (1 + 1e-5) + 1e-6);
        expect(distance).toBeGreaterThan(eps / 2);
        expect(Math.min(...adversarial)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...adversarial)).toBeLessThanOrEqual(1);
        expect(await page.$eval('[data-col="perturbed"] h2', (e) => e.textContent)).toBe(state.perturbedTitle);
        // The same attack in Node (wasm): the same random start, and gradient signs that agree but where a
        // float32 difference flips a near-zero component.
        const source = loadViewSource(folders.ep);
        const model = viewModel(source.manifest, source.params);
        const node = perturbedExample(model, source.images, source.manifest, parseViewState(`?attack=${attack}&eps=${eps}`), example)!;
        model.dispose();
        const same = adversarial.filter((v, i) => Math.abs(v - node.image[i]!) < 1e-4).length / adversarial.length;
        console.log(`${attack}: ${(100 * same).toFixed(2)}% of pixels equal in the page (WebGL) and Node (wasm); Node says ${node.title}`);
        expect(same).toBeGreaterThan(0.97);
        // The page's relaxation of its adversarial input is Node's relaxation of that input.
        const frames = nodeFrames('perturbed', adversarial);
        expect(Math.max(...frames.map((f, i) => maxRelative(f, state.frames.perturbed[i]!)))).toBeLessThan(2e-3);
        expect(new URL(page.url()).searchParams.get('attack')).toBe(attack);
        expect(new URL(page.url()).searchParams.get('eps')).toBe(String(eps));
        expect(problems).toEqual([]);
        await page.screenshot({ path: path.join(shots, `view-ep-${attack}.png`) });
        await page.close();
      }, 240_000);
    }

    it('mode=server with PGD: the server attacks, streams the adversarial input and its states, and the page says so', async () => {
      const eps = 0.1;
      const { page, problems, state } = await play(`?example=${example}&attack=pgd&eps=${eps}&mode=server`);
      expect(state.error).toBeUndefined();
      expect(state.attackedBy).toBe('server');
      expect(await page.$eval('[data-attack-mode]', (e) => e.textContent)).toContain('computed by the server');
      expect(state.frames.perturbed.length).toBe(tinySteps() + 1);
      const distance = linf(state.inputs.perturbed!, state.inputs.clean!);
      expect(distance).toBeLessThanOrEqual(eps * (1 + 1e-5) + 1e-6);
      expect(distance).toBeGreaterThan(eps / 2);
      expect(Math.max(...nodeFrames('perturbed', state.inputs.perturbed!).map((f, i) => maxRelative(f, state.frames.perturbed[i]!)))).toBeLessThan(1e-6);
      expect(problems).toEqual([]);
      await page.close();
    }, 180_000);

    it('a link reproduces a view: the page opened at step=5 stops there with the same controls', async () => {
      const { page, state } = await play(`?example=${example}&corruption=${encodeURIComponent(corruption)}&severity=1&step=5&speed=2`);
      expect(state.frames.clean.at(-1)!.step).toBe(5);
      expect(await page.$eval('[data-control="example"]', (e) => (e as HTMLInputElement).value)).toBe(String(example));
      expect(await page.$eval('[data-control="corruption"]', (e) => (e as HTMLSelectElement).value)).toBe(corruption);
      expect(await page.$eval('[data-control="speed"]', (e) => (e as HTMLSelectElement).value)).toBe('2');
      expect(new URL(page.url()).searchParams.get('step')).toBe('5');
      await page.close();
    }, 180_000);

    it('a link with an attack reproduces it: the controls show the attack and ε, and the URL keeps them', async () => {
      const { page, state } = await play(`?example=${example}&attack=fgsm&eps=0.2&step=4&backend=webgl`);
      expect(state.frames.perturbed.at(-1)!.step).toBe(4);
      expect(await page.$eval('[data-control="attack"]', (e) => (e as HTMLSelectElement).value)).toBe('fgsm');
      expect(await page.$eval('[data-control="eps"]', (e) => (e as HTMLInputElement).value)).toBe('0.2');
      expect(await page.$eval('[data-control="corruption"]', (e) => (e as HTMLSelectElement).value)).toBe('');
      expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ example: String(example), attack: 'fgsm', eps: '0.2', step: '4', speed: '1', backend: 'webgl' });
      await page.close();
    }, 180_000);

    it('mode=server: the page shows the frames the server streams, says so, and they are the browser-mode ones', async () => {
      const { page, problems, state } = await play(`?example=${example}&mode=server`);
      expect(state.mode).toBe('server');
      expect(await page.$eval('[data-mode]', (e) => e.textContent)).toContain('streamed from the server');
      const node = nodeFrames('clean');
      expect(state.frames.clean.length).toBe(node.length);
      expect(Math.max(...node.map((f, i) => maxRelative(f, state.frames.clean[i]!)))).toBeLessThan(1e-6);
      expect(problems).toEqual([]);
      await page.close();
    }, 180_000);
  });
});

/** Each job's line pictures from its own builder, on made-up numbers shaped like its records. */
function otherJobFigures(): LineFigure[] {
  const up = (n: number, from: number, to: number) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / Math.max(1, n - 1));
  const configurations = [0.001, 0.003, 0.01, 0.03].flatMap((lr, i) => ['adam', 'sgd'].map((kind, j) => ({ config: { 'job.optimizer.lr': lr, 'job.optimizer.kind': kind }, mean: 0.6 + i / 20 + j / 50 })));
  const sweep = { sweep: 'ep-learning-rate-and-optimizer-sweep', metric: { name: 'metrics.test_accuracy' }, configurations } as unknown as Parameters<typeof parameterFigure>[0];
  const loaded = { sweep: { method: 'grid', parameters: { 'job.optimizer.lr': { distribution: 'log-uniform' }, 'job.optimizer.kind': { values: ['adam', 'sgd'] } } } } as unknown as Parameters<typeof parameterFigure>[1];
  const history = [0, 1].flatMap((seed) => (['pc', 'bp'] as const).flatMap((method) => [1, 2, 3].map((epoch) => ({ seed, method, epoch, test_accuracy: 0.8 + epoch / 50 + seed / 100 }) as unknown as PcEpochRecord)));
  const conditions = ['clean', 'gaussian σ=0.25', 'gaussian σ=0.5', 'gaussian σ=0.75', 'gaussian σ=1', 'mnist-c/shot_noise', 'mnist-c/impulse_noise'];
  const curves = conditions.map((condition, i) => ({ condition, accuracy: up(11, 0.9 - i / 10, 0.92 - i / 12), corr_vs_clean_ff: [up(11, 0.1, 0.05), up(11, i / 10, i / 20)], corr_vs_clean_t: [up(11, 0.1, 0.05)] }));
  const cycleCurves = { '0': { last: up(6, 0.88, 0.88), average: up(6, 0.88, 0.88) }, '1': { last: up(6, 0.86, 0.9), average: up(6, 0.85, 0.89) }, '2': { last: up(6, 0.84, 0.91), average: up(6, 0.83, 0.9) } };
  const rows = [0, 1, 2].flatMap((cycles) => (cycles === 0 ? ['first'] : ['first', 'e2e']).flatMap((surface) => [0.01, 0.03, 0.1].map((epsilon) => ({ cycles, surface, epsilon, accuracy: 0.8 - epsilon * 5, interval: [0, 1], seconds: 1 }) as never)));
  const arms = ['baseline', 'regularized-v1-synthetic-target', 'shuffled-v1-synthetic-target-control'].map((name, i) => ({ name, accuracy: up(6, 0.95 - i / 50, 0.3 + i / 10) }));
  const attack = 'PGD-10, ε = 0.1';
  return [
    parameterFigure(sweep, loaded, 'job.optimizer.lr'),
    parameterFigure(sweep, loaded, 'job.optimizer.kind'),
    pcVsBpFigure(history, ['pc', 'bp'], [0, 1], 'PC (strict) vs BP: predictive-coding on fashion-mnist, a title as long as a long model name makes it'),
    ...predifyFigures(curves, 10, 'fashion-mnist'),
    ...cnnfFigures(cycleCurves, rows),
    ...['gaussian', 'uniform', 'salt-and-pepper'].map((kind) => noiseFigure(kind, up(6, 0, 0.5), arms)),
    perStepFigure('energy-per-step', 'Energy along the relaxation, mean over 100 test images', 'E(s_t)', up(100, 0, -40), up(100, 0, -38), attack),
    perStepFigure('readout-per-step', 'Readout accuracy at every relaxation step', 'accuracy', up(100, 0.1, 0.9), up(100, 0.1, 0.1), attack),
    perStepFigure('distance-per-step', 'Distance to the clean fixed point s*(x)', '‖s_t − s*(x)‖₂', up(100, 3, 0), up(100, 3, 1.2), attack),
  ];
}

interface ViewExposed {
  mode: string;
  backend: string;
  webgpu: string;
  deviceLost?: string;
  error?: string;
  attackedBy: string;
  perturbedTitle: string;
  inputs: Partial<Record<'clean' | 'perturbed', number[]>>;
  frames: Record<'clean' | 'perturbed', Frame[]>;
  lastRun?: { steps: number; frames: number; seconds: number };
}

function tinySteps(): number {
  return 12;
}

/** The largest difference between two frames' numbers (energy, probabilities, panels), relative to each quantity's scale. */
function maxRelative(a: Frame, b: Frame): number {
  const pairs: Array<[number[], number[]]> = [
    [[a.energy ?? 0], [b.energy ?? 0]],
    [a.probabilities ?? [], b.probabilities ?? []],
    ...a.panels.map((p, i) => [p.values, b.panels[i]!.values] as [number[], number[]]),
  ];
  let worst = 0;
  for (const [x, y] of pairs) {
    const scale = Math.max(1e-6, ...x.map(Math.abs));
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]!) / scale)));
  }
  return worst;
}

void tf;
