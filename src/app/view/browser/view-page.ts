/**
 * The live view's page (bundled into dist/browser/view.js with tfjs-core, its WebGL backend and its WebGPU
 * backend). It runs neurodyn itself: the family's system from the registry, simulate() and the view's
 * relaxation stepping, on WebGL (WebGPU when the URL says backend=webgpu; see WEBGPU_NOT_DEFAULT), with the
 * parameters fetched from the server as raw float32, and src/attacks for the attack picker. Where WebGL is
 * missing, or the URL says mode=server, it shows the frames (and the attacked input) the server streams from
 * the same code in Node, and says so. The view's state (example, corruption, severity, attack, ε, step,
 * speed, mode, backend) lives in the URL.
 *
 * For the tests, `window.__neurodyn` exposes the mode, the inputs and frames drawn so far and the frame rate.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as Plot from '@observablehq/plot';
import { formatViewState, parseViewState, type ViewAttack, type ViewManifest, type ViewState } from '../manifest.js';
import { cleanExample, perturbedExample } from '../perturb.js';
import { openRelaxation, type Frame, type Relaxation } from '../relaxation.js';
import { viewModel, type ViewModel } from '../view-model.js';

type Which = 'clean' | 'perturbed';

interface Exposed {
  mode: 'browser' | 'server';
  reason: string;
  backend: string;
  frames: Record<Which, Frame[]>;
  /** The inputs being relaxed (the perturbed one once computed), and the perturbed column's heading. */
  inputs: Partial<Record<Which, number[]>>;
  perturbedTitle: string;
  /** Where the attack is computed: 'page' (src/attacks bundled here) or 'server'; '' without an attack. */
  attackedBy: '' | 'page' | 'server';
  /** Why the page does not run on WebGPU, when it does not ('' when it does). */
  webgpu: string;
  /** Set when the WebGPU device is lost, with the browser's reason. */
  deviceLost?: string;
  fps: number;
  /** The last relaxation played to its end: steps, animation frames drawn, and wall seconds (first frame to last). */
  lastRun?: { steps: number; frames: number; seconds: number };
  playing: boolean;
  error?: string;
}

const exposed: Exposed = { mode: 'browser', reason: '', backend: '', frames: { clean: [], perturbed: [] }, inputs: {}, perturbedTitle: '', attackedBy: '', webgpu: '', fps: 0, playing: false };
(window as unknown as { __neurodyn: Exposed }).__neurodyn = exposed;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const STYLE = `
body { font-family: system-ui, Helvetica, Arial, sans-serif; margin: 12px 20px; color: #222; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 8px 0; font-size: 13px; }
.mode { font-size: 13px; padding: 4px 8px; border-radius: 3px; display: inline-block; }
.mode.browser { background: #eef7ee; } .mode.server { background: #fff4e5; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; }
.col h2 { font-size: 16px; margin: 6px 0; } .panels { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
.panel { font-size: 11px; color: #555; } canvas { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
.scores { font-size: 11px; } .bar { height: 9px; background: #4e79a7; display: inline-block; vertical-align: middle; }
.energy { margin-top: 6px; }
`;

async function fetchFloats(url: string): Promise<Float32Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Float32Array(await r.arrayBuffer());
}

/** Grey levels for values, scaled to the panel's own range (symmetric around 0 when it has both signs). */
function drawImage(canvas: HTMLCanvasElement, values: ArrayLike<number>, width: number, height: number, scale: number): void {
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * scale}px`;
  canvas.style.height = `${height * scale}px`;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) [lo, hi] = [Math.min(lo, values[i]!), Math.max(hi, values[i]!)];
  if (lo < 0 && hi > 0) [lo, hi] = [-Math.max(-lo, hi), Math.max(-lo, hi)];
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < width * height; i++) {
    const v = values[i];
    const g = v === undefined || !Number.isFinite(v) ? 255 : Math.round((255 * (v - lo)) / span);
    img.data.set([g, g, g, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

interface Column {
  readonly which: Which;
  readonly root: HTMLElement;
  readonly input: HTMLCanvasElement;
  readonly panels: HTMLElement;
  readonly scores: HTMLElement;
  readonly energy: HTMLElement;
}

function column(which: Which, title: string): Column {
  const root = el('div', { class: 'col', 'data-col': which }, el('h2', {}, title));
  const input = el('canvas', { 'data-input': which });
  const panels = el('div', { class: 'panels' });
  const scores = el('div', { class: 'scores' });
  const energy = el('div', { class: 'energy' });
  root.append(el('div', { class: 'panels' }, el('div', { class: 'panel' }, 'input', input), panels), scores, energy);
  return { which, root, input, panels, scores, energy };
}

function drawFrame(col: Column, frame: Frame, history: readonly Frame[], classNames: readonly string[], last: boolean): void {
  while (col.panels.children.length < frame.panels.length) col.panels.append(el('div', { class: 'panel' }, el('span'), el('canvas')));
  frame.panels.forEach((p, i) => {
    const box = col.panels.children[i]!;
    box.querySelector('span')!.textContent = p.label;
    drawImage(box.querySelector('canvas')!, p.values, p.width, p.height, Math.max(1, Math.floor(160 / Math.max(p.width, p.height))));
  });
  if (frame.probabilities) {
    const best = frame.probabilities.indexOf(Math.max(...frame.probabilities));
    col.scores.replaceChildren(
      ...frame.probabilities.map((p, c) =>
        el('div', {}, `${(classNames[c] ?? String(c)).padStart(2)} `, el('span', { class: 'bar', style: `width:${Math.round(120 * p)}px;${c === best ? 'background:#e15759' : ''}` }), ` ${(100 * p).toFixed(1)}%`),
      ),
    );
  }
  // The energy chart every third frame (redrawing it is the frame's dearest part), and at the last step.
  if (frame.energy !== undefined && (history.length < 3 || history.length % 3 === 0 || last)) {
    const rows = history.filter((f) => f.energy !== undefined).map((f) => ({ step: f.step, energy: f.energy! }));
    col.energy.replaceChildren(
      Plot.plot({ width: 420, height: 180, marginLeft: 60, grid: true, x: { label: 'relaxation step' }, y: { label: 'energy' }, marks: [Plot.line(rows, { x: 'step', y: 'energy', stroke: col.which === 'clean' ? '#4e79a7' : '#e15759' }), Plot.dot(rows.slice(-1), { x: 'step', y: 'energy', fill: 'black', r: 2 })] }),
    );
  }
}

/** The frames of a relaxation streamed by the server (mode=server), consumed at the page's pace. */
function streamFrames(state: ViewState, onFrame: (which: Which, frame: Frame) => void, onInput: (input: number[], title: string) => void): Promise<void> {
  return fetch(`/relax${formatViewState(state)}`).then(async (r) => {
    if (!r.ok || !r.body) throw new Error(`/relax: HTTP ${r.status} ${await r.text()}`);
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line) {
          const message = JSON.parse(line) as { which: Which; frame?: Frame; input?: number[]; title?: string };
          if (message.input) onInput(message.input, message.title ?? '');
          else onFrame(message.which, message.frame!);
        }
      }
    }
  });
}

/**
 * Why the page does not pick WebGPU by itself, measured in headless Chromium 156 on SwiftShader's Vulkan:
 * the adapter and device start and asynchronous reads work, but tfjs-backend-webgpu's synchronous read
 * (dataSync, which simulate(), the view's frames and src/attacks use at every step) loses the device as
 * soon as the page collects garbage, and every later kernel fails.
 */
const WEBGPU_NOT_DEFAULT =
  "tfjs-backend-webgpu's synchronous reads (dataSync, used by simulate() and src/attacks at every step) lose the device in Chromium once the page collects garbage (\"A valid external Instance reference no longer exists\", then \"createBuffer failed … mappedAtCreation\"); backend=webgpu in the URL tries it anyway";

/**
 * Starts tfjs on WebGL, or on WebGPU when the URL asks for it (backend=webgpu) and the browser has it.
 * Returns why WebGPU is not used ('' when it is), for the mode line.
 */
async function startBackend(wanted: ViewState['backend']): Promise<string> {
  let whyNot = '';
  if (wanted === 'webgl') whyNot = 'backend=webgl in the URL';
  else if (wanted === '') whyNot = WEBGPU_NOT_DEFAULT;
  else if (!('gpu' in navigator)) whyNot = `this browser has no navigator.gpu${isSecureContext ? '' : ' (the page is not a secure context)'}`;
  else {
    try {
      const adapter = await (navigator as unknown as { gpu: { requestAdapter(): Promise<unknown> } }).gpu.requestAdapter();
      if (!adapter) whyNot = 'navigator.gpu.requestAdapter() found no adapter';
      else if (!(await tf.setBackend('webgpu'))) whyNot = 'tfjs could not start its WebGPU backend';
    } catch (e) {
      whyNot = `WebGPU failed to start: ${(e as Error).message}`;
    }
  }
  if (!whyNot && tf.getBackend() === 'webgpu') {
    // A lost device (see WEBGPU_NOT_DEFAULT) fails every later kernel: say why where it can be seen.
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message: string; reason?: string }> } }).device;
    void device?.lost?.then((info) => {
      exposed.deviceLost = `${info.reason ?? 'lost'}: ${info.message}`;
      console.warn(`WebGPU device lost (${exposed.deviceLost})`);
    });
  }
  if (whyNot || tf.getBackend() !== 'webgpu') {
    if (wanted === 'webgpu') throw new Error(`backend=webgpu in the URL, but ${whyNot}`);
    if (!(await tf.setBackend('webgl'))) throw new Error(`tfjs could not start its WebGL backend, and ${whyNot}`);
  }
  await tf.ready();
  return whyNot;
}

async function main(): Promise<void> {
  const root = document.getElementById('view')!;
  document.head.append(el('style', {}, STYLE));
  let state = parseViewState(location.search);
  const manifest = (await (await fetch('/manifest.json')).json()) as ViewManifest;
  const images = await fetchFloats('/examples.bin');
  const pixels = manifest.imageShape[0] * manifest.imageShape[1];
  let model: ViewModel | undefined;
  if (state.mode === 'browser') {
    try {
      exposed.webgpu = await startBackend(state.backend);
      exposed.backend = tf.getBackend();
      const params: Record<string, tf.Tensor> = {};
      for (const [i, p] of manifest.params.entries()) params[p.name] = tf.tensor(await fetchFloats(`/params/${i}.bin`), [...p.shape], 'float32');
      model = viewModel(manifest, params);
      exposed.reason = `relaxing in this page: neurodyn's simulate() on tfjs ${exposed.backend}${exposed.webgpu ? ` (not WebGPU: ${exposed.webgpu})` : ''}`;
    } catch (e) {
      state = { ...state, mode: 'server' };
      exposed.reason = `the page cannot relax the model itself (${(e as Error).message}); the server streams the states`;
    }
  } else exposed.reason = 'mode=server in the URL: the server relaxes the model (wasm in Node) and streams the states';
  exposed.mode = state.mode;

  const example = el('input', { type: 'number', min: '0', max: String(manifest.examples.count - 1), value: String(Math.min(state.example, manifest.examples.count - 1)), style: 'width:4em', 'data-control': 'example' });
  const corruption = el('select', { 'data-control': 'corruption' }, el('option', { value: '' }, 'none'), ...manifest.corruptions.map((c) => el('option', { value: c.name }, c.name)));
  corruption.value = state.corruption;
  const severity = el('select', { 'data-control': 'severity' }, ...[1, 2, 3, 4, 5].map((s) => el('option', { value: String(s) }, String(s))));
  severity.value = String(state.severity);
  const attack = el('select', { 'data-control': 'attack' }, el('option', { value: '' }, 'none'), ...manifest.attacks.map((a) => el('option', { value: a }, a === 'fgsm' ? 'FGSM' : 'PGD-10')));
  attack.value = manifest.attacks.includes(state.attack as ViewAttack) ? state.attack : '';
  if (!manifest.attacks.length) [attack.disabled, attack.title] = [true, manifest.attacksNote ?? 'this model cannot be attacked'];
  const eps = el('input', { type: 'number', min: '0.005', max: '1', step: '0.01', value: String(state.eps), style: 'width:4.5em', 'data-control': 'eps' });
  const speed = el('select', { 'data-control': 'speed' }, ...[1, 2, 5, 10].map((s) => el('option', { value: String(s) }, `${s} step${s > 1 ? 's' : ''}/frame`)));
  speed.value = String(state.speed);
  const play = el('button', { 'data-control': 'play' }, 'play');
  const stepButton = el('button', { 'data-control': 'step' }, 'step');
  const counter = el('span', { 'data-step': '0' }, 'step 0');
  const fps = el('span', { class: 'fps' }, '');
  const label = (i: number) => `example ${i} (label ${manifest.classNames[manifest.examples.labels[i]!] ?? '?'})`;
  const exampleLabel = el('span', {}, label(Number(example.value)));
  root.replaceChildren(
    el('h1', { style: 'font-size:20px;margin:4px 0' }, manifest.title),
    el('div', { class: `mode ${state.mode}`, 'data-mode': state.mode }, `mode: ${state.mode === 'browser' ? 'in the browser' : 'streamed from the server'} — ${exposed.reason}`),
    el('div', { class: 'controls' }, 'example ', example, exampleLabel, ' corruption ', corruption, ' severity ', severity, ' or attack ', attack, ' ε (L∞) ', eps, play, stepButton, speed, counter, fps),
  );
  const attackLine = el('div', { class: 'mode', 'data-attack-mode': '' });
  root.append(attackLine);
  const cols = el('div', { class: 'cols' });
  root.append(cols);

  let relaxations: Partial<Record<Which, Relaxation>> = {};
  let columns: Partial<Record<Which, Column>> = {};
  let queue: Record<Which, Frame[]> = { clean: [], perturbed: [] };
  let target = state.step;
  let playing = target === 0;
  let generation = 0;
  const shown = () => exposed.frames.clean.at(-1)?.step ?? 0;
  /** The perturbed input is still being computed (an attack): no column advances until it is there. */
  let pending = false;
  const epsValue = () => {
    const v = Number(eps.value);
    return Number.isFinite(v) && v > 0 && v <= 1 ? v : state.eps;
  };
  const syncUrl = () => {
    state = { ...state, example: Number(example.value), corruption: corruption.value, severity: Number(severity.value), attack: attack.value as ViewState['attack'], eps: epsValue(), speed: Number(speed.value), step: shown() };
    history.replaceState(null, '', formatViewState(state));
  };
  const reset = () => {
    generation++;
    runFrames = 0;
    for (const r of Object.values(relaxations)) r?.dispose();
    relaxations = {};
    exposed.frames = { clean: [], perturbed: [] };
    queue = { clean: [], perturbed: [] };
    const index = Number(example.value);
    exampleLabel.textContent = label(index);
    const wanted: ViewState = { ...state, example: index, corruption: attack.value ? '' : corruption.value, severity: Number(severity.value), attack: attack.value as ViewState['attack'], eps: epsValue(), speed: 1 };
    exposed.inputs = {};
    exposed.perturbedTitle = '';
    exposed.attackedBy = wanted.attack ? (model ? 'page' : 'server') : '';
    attackLine.textContent = !wanted.attack
      ? ''
      : model
        ? `attack: computed in this page by neurodyn's src/attacks (bundled), ${wanted.attack === 'fgsm' ? 'FGSM' : 'PGD-10'} with the unrolled gradient through the relaxation, on tfjs ${exposed.backend}`
        : `attack: computed by the server (src/attacks on wasm in Node) and streamed with the states`;
    attackLine.className = wanted.attack ? `mode ${model ? 'browser' : 'server'}` : 'mode';
    if (!manifest.attacks.length) attackLine.textContent = `no attack: ${manifest.attacksNote ?? 'this model cannot be attacked'}`;
    columns = {};
    cols.replaceChildren();
    const open = (which: Which, image: Float32Array | undefined, title: string) => {
      const c = column(which, title);
      columns[which] = c;
      cols.append(c.root);
      if (!image) return;
      exposed.inputs[which] = Array.from(image);
      drawImage(c.input, image, manifest.imageShape[1], manifest.imageShape[0], 4);
      if (model) relaxations[which] = openRelaxation(model, image);
    };
    open('clean', cleanExample(images, index, pixels), 'clean');
    const mine = generation;
    const showPerturbed = (image: Float32Array, title: string) => {
      const c = columns.perturbed!;
      c.root.querySelector('h2')!.textContent = title;
      exposed.inputs.perturbed = Array.from(image);
      exposed.perturbedTitle = title;
      drawImage(c.input, image, manifest.imageShape[1], manifest.imageShape[0], 4);
      if (model) relaxations.perturbed = openRelaxation(model, image);
    };
    if (wanted.attack || wanted.corruption) {
      open('perturbed', undefined, wanted.attack ? `computing ${wanted.attack === 'fgsm' ? 'FGSM' : 'PGD-10'} at ε = ${wanted.eps}…` : '');
      pending = true;
    }
    if (model && pending) {
      // After a paint, so that the page shows what it is computing (PGD through the relaxation takes a while).
      setTimeout(() => {
        if (mine !== generation) return;
        try {
          const p = perturbedExample(model, images, manifest, wanted, index)!;
          showPerturbed(p.image, p.title);
        } catch (e) {
          exposed.error = (e as Error).message;
          columns.perturbed!.root.querySelector('h2')!.textContent = `the perturbation failed: ${exposed.error}`;
        }
        pending = false;
      }, 30);
    }
    if (!model) {
      void streamFrames(
        wanted,
        (which, frame) => {
          if (mine === generation) queue[which].push(frame);
        },
        (input, title) => {
          if (mine !== generation) return;
          showPerturbed(Float32Array.from(input), title);
          pending = false;
        },
      ).catch((e: Error) => (exposed.error = e.message));
    }
  };
  const advance = (k: number): boolean => {
    let moved = false;
    if (pending) return false;
    for (const which of ['clean', 'perturbed'] as const) {
      const col = columns[which];
      if (!col) continue;
      let frames: Frame[];
      if (model) frames = relaxations[which]!.advance(k);
      else frames = queue[which].splice(0, exposed.frames[which].length === 0 ? k + 1 : k);
      if (!frames.length) continue;
      moved = true;
      exposed.frames[which].push(...frames);
      drawFrame(col, frames.at(-1)!, exposed.frames[which], manifest.classNames, frames.at(-1)!.step >= manifest.run.maxSteps);
    }
    const step = shown();
    counter.textContent = `step ${step} / ${manifest.run.maxSteps}`;
    counter.dataset.step = String(step);
    return moved;
  };
  let last = performance.now();
  let count = 0;
  let runStart = 0;
  let runFrames = 0;
  const tick = () => {
    try {
      step();
    } catch (e) {
      // A relaxation that fails (a diverged state, a kernel the backend lacks) stops the view with its message.
      exposed.error = (e as Error).message;
      playing = false;
      root.append(el('div', { class: 'mode server', 'data-error': '' }, `The relaxation stopped: ${exposed.error}${exposed.deviceLost ? ` (the WebGPU device was lost: ${exposed.deviceLost})` : ''}`));
      return;
    }
    requestAnimationFrame(tick);
  };
  const step = () => {
    // The frame rate counts relaxation frames only, not the wait for an attack to be computed.
    if (pending) [last, count] = [performance.now(), 0];
    if (playing) {
      const k = target > 0 ? Math.min(Number(speed.value), Math.max(1, target - shown())) : Number(speed.value);
      const moved = advance(k);
      if (moved) {
        count++;
        if (runFrames++ === 0) runStart = performance.now();
      }
      const now = performance.now();
      if (now - last >= 1000) {
        exposed.fps = (1000 * count) / (now - last);
        fps.textContent = `${exposed.fps.toFixed(1)} frames/s`;
        [last, count] = [now, 0];
      }
      if ((target > 0 && shown() >= target) || shown() >= manifest.run.maxSteps) {
        if (shown() >= manifest.run.maxSteps && runFrames > 1) exposed.lastRun = { steps: shown(), frames: runFrames, seconds: (performance.now() - runStart) / 1000 };
        playing = false;
        target = 0;
        syncUrl();
      }
    }
    exposed.playing = playing;
    play.textContent = playing ? 'pause' : 'play';
  };
  play.onclick = () => {
    playing = !playing;
    [last, count] = [performance.now(), 0];
    if (!playing) syncUrl();
  };
  stepButton.onclick = () => {
    playing = false;
    advance(1);
    syncUrl();
  };
  const restart = () => {
    reset();
    playing = true;
    target = 0;
    syncUrl();
  };
  example.onchange = restart;
  corruption.onchange = () => {
    if (corruption.value) attack.value = '';
    restart();
  };
  severity.onchange = restart;
  attack.onchange = () => {
    if (attack.value) corruption.value = '';
    restart();
  };
  eps.onchange = () => {
    if (attack.value) restart();
    else syncUrl();
  };
  speed.onchange = syncUrl;
  reset();
  playing = true;
  requestAnimationFrame(tick);
}

main().catch((e: Error) => {
  exposed.error = e.message;
  document.getElementById('view')!.textContent = `The view could not start: ${e.message}`;
});
