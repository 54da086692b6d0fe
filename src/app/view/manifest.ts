/**
 * What the live view's page is told about the model (manifest.json): the system spec, the relaxation
 * settings, the parameter tensors it fetches as raw float32 (/params/<i>.bin, in this order), the test
 * examples (/examples.bin) and the corruptions it may apply. Plain JSON, shared by server and page.
 */
export interface ViewManifest {
  readonly title: string;
  readonly origin: string;
  readonly system: { readonly kind: string } & Readonly<Record<string, unknown>>;
  readonly imageShape: readonly [number, number];
  readonly run: { readonly integrator?: string; readonly dt: number; readonly maxSteps: number };
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  /** The LCANet head, for class scores of a convolutional LCA. */
  readonly head?: unknown;
  readonly classNames: readonly string[];
  readonly examples: { readonly count: number; readonly labels: readonly number[] };
  readonly corruptions: ReadonlyArray<{ readonly name: string; readonly severities: number }>;
  /**
   * The attacks the page may run on a test example (through the dynamics, with src/attacks), or empty for a
   * model without class scores (LCA's code alone), with why in `attacksNote`.
   */
  readonly attacks: readonly ViewAttack[];
  readonly attacksNote?: string;
  /** The seed of the corruptions' and attacks' random streams (as `neurodyn corrupt` and `attack`). */
  readonly seed: number;
}

/** The attacks the live view offers: FGSM and PGD (10 steps, random start) in L∞, unrolled gradient. */
export const VIEW_ATTACKS = ['fgsm', 'pgd'] as const;
export type ViewAttack = (typeof VIEW_ATTACKS)[number];
/** PGD's steps in the view (α = 2.5 ε / steps, as `neurodyn attack`). */
export const VIEW_PGD_STEPS = 10;

/** The view's state, kept in the page's URL so that a link reproduces the view. */
export interface ViewState {
  readonly example: number;
  /** '' for none. */
  readonly corruption: string;
  readonly severity: number;
  /** '' for none; an attack replaces the corruption (the perturbed column shows one or the other). */
  readonly attack: '' | ViewAttack;
  /** The attack's L∞ radius, pixels in [0, 1]. */
  readonly eps: number;
  /** The step to show (the page relaxes up to it and pauses there). */
  readonly step: number;
  /** Steps per animation frame. */
  readonly speed: number;
  /** 'browser' (tfjs WebGL in the page) or 'server' (states streamed from Node). */
  readonly mode: 'browser' | 'server';
  /** The page's tfjs backend in browser mode: '' for the best the browser has (WebGPU, else WebGL). */
  readonly backend: '' | 'webgl' | 'webgpu';
}

export const DEFAULT_VIEW_STATE: ViewState = { example: 0, corruption: '', severity: 1, attack: '', eps: 0.1, step: 0, speed: 1, mode: 'browser', backend: '' };

/** Reads a ViewState from URL search parameters; anything missing or malformed takes its default. */
export function parseViewState(search: string): ViewState {
  const q = new URLSearchParams(search);
  const int = (key: string, fallback: number, min: number) => {
    const v = Number(q.get(key));
    return q.has(key) && Number.isInteger(v) && v >= min ? v : fallback;
  };
  const attack = (VIEW_ATTACKS as readonly string[]).includes(q.get('attack') ?? '') ? (q.get('attack') as ViewAttack) : '';
  const eps = Number(q.get('eps'));
  return {
    example: int('example', DEFAULT_VIEW_STATE.example, 0),
    corruption: attack ? '' : (q.get('corruption') ?? ''),
    attack,
    eps: q.has('eps') && Number.isFinite(eps) && eps > 0 && eps <= 1 ? eps : DEFAULT_VIEW_STATE.eps,
    severity: int('severity', DEFAULT_VIEW_STATE.severity, 1),
    step: int('step', DEFAULT_VIEW_STATE.step, 0),
    speed: int('speed', DEFAULT_VIEW_STATE.speed, 1),
    mode: q.get('mode') === 'server' ? 'server' : 'browser',
    backend: q.get('backend') === 'webgl' || q.get('backend') === 'webgpu' ? (q.get('backend') as 'webgl' | 'webgpu') : '',
  };
}

export function formatViewState(state: ViewState): string {
  const q = new URLSearchParams();
  q.set('example', String(state.example));
  if (state.attack) {
    q.set('attack', state.attack);
    q.set('eps', String(state.eps));
  } else if (state.corruption) {
    q.set('corruption', state.corruption);
    q.set('severity', String(state.severity));
  }
  q.set('step', String(state.step));
  q.set('speed', String(state.speed));
  if (state.mode !== 'browser') q.set('mode', state.mode);
  if (state.backend) q.set('backend', state.backend);
  return `?${q.toString()}`;
}
