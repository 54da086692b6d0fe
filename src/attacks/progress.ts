/**
 * Progress of an attack evaluation. The work done is measured where it happens: a wrapper around the
 * AttackModel counts every relaxation any attack asks for, weighted by the warm-up timing, against the
 * estimate printed before the start (cost.ts). On a terminal (and CI unset) that drives a cli-progress bar
 * naming the current stage; elsewhere (pipes, files, CI=true) it prints plain lines: one per attack and
 * batch as it finishes, and a heartbeat at most every `heartbeatSeconds` inside a long attack.
 */
import cliProgress from 'cli-progress';
import type { AttackModel } from './attack-model.js';
import { formatDuration, type Timing } from './cost.js';

export interface AttackProgress {
  /**
   * The stage now running ("ε 0.1, batch 1/2: pgd on 61"), with its estimated upper bound in seconds; the
   * previous stage counts as complete (attacks stop early, so a stage's bound is its share of the work).
   */
  stage(label: string, bound?: number): void;
  /** Relaxations done (examples), forward or differentiated. */
  relaxed(kind: 'forward' | 'backward', examples: number): void;
  /** A line of output (above the bar, when there is one). */
  line(text: string): void;
  /** "12% of the estimated work, about 3.1 min left". */
  status(): string;
  done(): void;
}

export interface AttackProgressOptions {
  /** Estimated seconds of the whole evaluation (an upper bound), and the per-example timing it came from. */
  readonly estimate: number;
  readonly timing: Timing;
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force plain lines (default: plain unless the stream is a terminal and CI is not set). */
  readonly plain?: boolean;
  readonly heartbeatSeconds?: number;
  readonly now?: () => number;
}

/**
 * Progress is measured in the estimate's units: finished stages count with their whole bound, the running
 * one with the relaxations it has run so far (capped at its bound). The time left extrapolates the pace so
 * far, so it shrinks with the upper bound when attacks stop early.
 */
export function attackProgress(options: AttackProgressOptions): AttackProgress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => Date.now());
  const plain = options.plain ?? !(stream.isTTY && !process.env.CI);
  const began = now();
  const total = Math.max(1e-9, options.estimate);
  let completed = 0;
  let inStage = 0;
  let stageBound = 0;
  let stage = 'starting';
  const fraction = () => Math.min(1, (completed + Math.min(inStage, stageBound)) / total);
  const timeLeft = () => {
    const f = fraction();
    return f > 0.005 ? `about ${formatDuration((((now() - began) / 1000) * (1 - f)) / f)} left` : '';
  };
  const status = () => `${Math.round(100 * fraction())}% of the estimated work${timeLeft() ? `, ${timeLeft()}` : ''}`;
  const enter = (label: string, bound = 0) => {
    completed += stageBound;
    stageBound = bound;
    inStage = 0;
    stage = label;
  };
  const count = (kind: 'forward' | 'backward', examples: number) => {
    inStage += examples * (kind === 'forward' ? options.timing.forward : options.timing.backward);
  };
  if (!plain) {
    const bars = new cliProgress.MultiBar(
      { format: `[{bar}] {percentage}% | {duration_formatted} | {left} | {stage}`, barsize: 20, stream: stream as NodeJS.WriteStream, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    const bar = bars.create(1000, 0, { stage, left: '' });
    let stopped = false;
    const draw = () => bar.update(Math.round(1000 * fraction()), { stage, left: timeLeft() || 'time left: after the first stage' });
    return {
      stage(label, bound) {
        enter(label, bound);
        draw();
      },
      relaxed(kind, examples) {
        count(kind, examples);
        draw();
      },
      line(text) {
        if (stopped) return void stream.write(`${text}\n`);
        // The bar prints logged lines above itself when it next renders: render now, so none is lost at the end.
        bars.log(`${text}\n`);
        bars.update();
      },
      status,
      done() {
        stopped = true;
        bars.stop();
      },
    };
  }
  const heartbeat = 1000 * (options.heartbeatSeconds ?? 30);
  let lastLine = began;
  const write = (text: string) => {
    lastLine = now();
    stream.write(`${text}\n`);
  };
  return {
    stage: enter,
    relaxed(kind, examples) {
      count(kind, examples);
      if (now() - lastLine >= heartbeat) write(`  … ${stage}: ${status()} after ${formatDuration((now() - began) / 1000)}`);
    },
    line: write,
    status,
    done: () => write(`attack evaluation done in ${formatDuration((now() - began) / 1000)} (the estimate, an upper bound, was ${formatDuration(total)})`),
  };
}

/**
 * The same model, reporting every relaxation it runs to `progress`. `scale` is its cost relative to the
 * defender's relaxation (a transfer source or attacker cut to fewer steps); `judged`: its logits are the
 * defender's own (an attacker with another horizon), so they count in full and every gradient call adds one.
 */
export function reportingModel(model: AttackModel, progress: Pick<AttackProgress, 'relaxed'>, scale = 1, judged = false): AttackModel {
  return {
    ...model,
    logits(x, rng) {
      const out = model.logits(x, rng);
      progress.relaxed('forward', x.shape[0]! * (judged ? 1 : scale));
      return out;
    },
    gradient(x, labels, loss, rng) {
      const out = model.gradient(x, labels, loss, rng);
      progress.relaxed('backward', x.shape[0]! * scale);
      if (judged) progress.relaxed('forward', x.shape[0]!);
      return out;
    },
  };
}
