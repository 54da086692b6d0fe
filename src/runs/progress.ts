/**
 * Progress for long work: a bar on a terminal (cli-progress), plain lines otherwise (CI, pipes, files),
 * at most one per 10% or per 10 seconds, so logs stay readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advance by n units (default 1). */
  tick(n?: number): void;
  /** Finish (prints the final line or stops the bar). */
  done(): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** Where to draw; default process.stderr. */
  readonly stream?: NodeJS.WriteStream;
  /** Force plain lines (default: plain unless the stream is a terminal and CI is not set). */
  readonly plain?: boolean;
  /** Print nothing. */
  readonly quiet?: boolean;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { tick: () => {}, done: () => {} };
  const plain = options.plain ?? !(stream.isTTY && !process.env.CI);
  const start = Date.now();
  let value = 0;
  if (!plain) {
    const bar = new cliProgress.SingleBar(
      { format: `${options.label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, stream, hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0);
    return {
      tick: (n = 1) => {
        value += n;
        bar.update(Math.min(value, options.total));
      },
      done: () => bar.stop(),
    };
  }
  let lastTenth = 0;
  let lastTime = start;
  const line = () => {
    const seconds = ((Date.now() - start) / 1000).toFixed(1);
    const pct = options.total > 0 ? Math.round((100 * value) / options.total) : 100;
    stream.write(`${options.label}: ${pct}% (${value}/${options.total}) ${seconds}s\n`);
  };
  return {
    tick: (n = 1) => {
      value += n;
      const tenth = Math.floor((10 * value) / Math.max(1, options.total));
      const now = Date.now();
      if (tenth > lastTenth || now - lastTime > 10_000) {
        lastTenth = tenth;
        lastTime = now;
        if (value < options.total) line();
      }
    },
    done: () => {
      value = Math.max(value, options.total);
      line();
    },
  };
}
