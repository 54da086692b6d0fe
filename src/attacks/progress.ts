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
  /** The stage now running ("ε 0.1, batch 1/2: pgd"). */
  stage(label: string): void;
  /** Relaxations done (examples), forward or differentiated. */
  relaxed(kind: 'forward' | 'backward', examples: number): void;
  /** A line of output (above the bar, when there is one). */
  line(text: string): void;
  done(): void;
}

export interface AttackProgressOptions {
  /** Estimated seconds of the whole evaluation, and the per-example timing it came from. */
  readonly estimate: number;
  readonly timing: Timing;
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force plain lines (default: plain unless the stream is a terminal and CI is not set). */
  readonly plain?: boolean;
  readonly heartbeatSeconds?: number;
  readonly now?: () => number;
}

export function attackProgress(options: AttackProgressOptions): AttackProgress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => Date.now());
  const plain = options.plain ?? !(stream.isTTY && !process.env.CI);
  const began = now();
  const total = Math.max(1e-9, options.estimate);
  let spent = 0;
  let stage = 'starting';
  const percent = () => Math.min(100, Math.round((100 * spent) / total));
  if (!plain) {
    const bars = new cliProgress.MultiBar(
      { format: `{stage} [{bar}] {percentage}% of the estimate | {duration_formatted}`, stream: stream as NodeJS.WriteStream, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    const bar = bars.create(1000, 0, { stage });
    return {
      stage(label) {
        stage = label;
        bar.update(Math.min(1000, Math.round((1000 * spent) / total)), { stage });
      },
      relaxed(kind, examples) {
        spent += examples * (kind === 'forward' ? options.timing.forward : options.timing.backward);
        bar.update(Math.min(1000, Math.round((1000 * spent) / total)), { stage });
      },
      line: (text) => bars.log(`${text}\n`),
      done: () => bars.stop(),
    };
  }
  const heartbeat = 1000 * (options.heartbeatSeconds ?? 30);
  let lastLine = began;
  const write = (text: string) => {
    lastLine = now();
    stream.write(`${text}\n`);
  };
  const elapsed = () => formatDuration((now() - began) / 1000);
  return {
    stage(label) {
      stage = label;
    },
    relaxed(kind, examples) {
      spent += examples * (kind === 'forward' ? options.timing.forward : options.timing.backward);
      if (now() - lastLine >= heartbeat) write(`  … ${stage}: ${percent()}% of the estimated work after ${elapsed()}`);
    },
    line: write,
    done: () => write(`attack evaluation done in ${elapsed()} (${percent()}% of the estimated work, which is an upper bound)`),
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
