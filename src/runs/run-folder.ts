/**
 * The run folder: the resolved spec, `metrics.jsonl` (one line per evaluation or epoch), `summary.json`
 * (final figures under stable keys), and whatever traces, pictures and exports the job writes.
 *
 * The folder is built under a hidden temporary name beside its destination (`.<name>.partial-<pid>`) and
 * renamed into place only when the run succeeds, so a failed or interrupted run never leaves a partial run
 * folder behind; each file inside is itself written atomically. A failure removes the temporary folder at
 * once. An interrupt (Ctrl-C, kill) ends the process at once, as it should even in the middle of a long
 * synchronous relaxation, where no JavaScript signal handler could run; the hidden folder it leaves is
 * removed by the next run in the same place, once the process that made it is gone.
 *
 * One process at a time writes a destination: `.<name>.lock` beside it holds the writer's pid, taken with
 * an exclusive create, so a second run (or a `--resume`) into the same `--out` while the first still runs is
 * refused naming that process; a lock whose process is gone is taken over. The lock goes at commit or
 * abort, or when the process exits. Actions registered with `afterCommit` (clearing the checkpoints) run
 * only once the folder is in place, so an interrupt before that keeps everything a resume needs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../base/errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { checkOutputPath, writing } from './output-path.js';

export interface RunFolder {
  /** The final location (where the folder will be once committed). */
  readonly destination: string;
  /** Where files are being written now. */
  readonly workingDir: string;
  writeJson(name: string, value: unknown): void;
  writeText(name: string, text: string): void;
  writeBytes(name: string, bytes: Uint8Array): void;
  /** Appends one JSON line to metrics.jsonl. */
  appendMetrics(record: Readonly<Record<string, unknown>>): void;
  /** Every file written so far, relative to the folder. */
  files(): readonly string[];
  /** Runs `action` once the folder is committed (not if it is aborted). */
  afterCommit(action: () => void): void;
  /** Moves the folder into place, then runs the afterCommit actions. */
  commit(): void;
  /** Removes the working folder. */
  abort(): void;
}

function checkName(name: string): void {
  if (name === '' || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) throw new Error(`run folder file name ${JSON.stringify(name)} must be relative and stay inside the folder`);
}

export function lockFileFor(destination: string): string {
  const dest = path.resolve(destination);
  return path.join(path.dirname(dest), `.${path.basename(dest)}.lock`);
}

/**
 * Takes the lock of `destination` for this process, or throws naming the process that holds it. Returns
 * its release (idempotent; also run at process exit).
 */
export function lockDestination(destination: string, option = '--out'): () => void {
  const lock = lockFileFor(destination);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.removeListener('exit', release);
        try {
          if (fs.readFileSync(lock, 'utf8').trim() === String(process.pid)) fs.rmSync(lock, { force: true });
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return writing('create the lock file', lock, () => { throw e; });
      const pid = Number.parseInt(fs.readFileSync(lock, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new SpecError(option, `another neurodyn process (pid ${pid}) is writing ${path.resolve(destination)} (lock ${lock}); wait for it to finish, stop it, or choose another ${option}`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new SpecError(option, `cannot take the lock ${lock}; another process keeps recreating it`);
}

export function openRunFolder(destination: string, option = '--out'): RunFolder {
  const dest = checkOutputPath(destination, option);
  if (fs.existsSync(dest) && (!fs.statSync(dest).isDirectory() || fs.readdirSync(dest).length > 0)) {
    throw new SpecError(option, `${dest} already exists and is not an empty folder; choose another ${option} or remove it`);
  }
  writing('create the folder', path.dirname(dest), () => fs.mkdirSync(path.dirname(dest), { recursive: true }));
  const release = lockDestination(dest, option);
  const working = path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${process.pid}`);
  try {
    removeAbandonedPartials(path.dirname(dest));
    writing('create the working folder', working, () => {
      fs.rmSync(working, { recursive: true, force: true });
      fs.mkdirSync(working, { recursive: true });
    });
  } catch (e) {
    release();
    throw e;
  }
  const written = new Set<string>();
  const committed: (() => void)[] = [];
  const target = (name: string) => {
    checkName(name);
    const file = path.join(working, name);
    writing('create the folder', path.dirname(file), () => fs.mkdirSync(path.dirname(file), { recursive: true }));
    written.add(name);
    return file;
  };
  const write = (name: string, data: string | Uint8Array) => {
    const file = target(name);
    writing('write', file, () => writeFileAtomic(file, data));
  };
  return {
    destination: dest,
    workingDir: working,
    writeJson: (name, value) => write(name, `${JSON.stringify(value, null, 2)}\n`),
    writeText: (name, text) => write(name, text),
    writeBytes: (name, bytes) => write(name, bytes),
    appendMetrics: (record) => {
      const file = target('metrics.jsonl');
      writing('append to', file, () => fs.appendFileSync(file, `${JSON.stringify(record)}\n`));
    },
    files: () => [...written].sort(),
    afterCommit: (action) => {
      committed.push(action);
    },
    commit() {
      writing('move the finished run folder to', dest, () => {
        if (fs.existsSync(dest)) fs.rmdirSync(dest);
        fs.renameSync(working, dest);
      });
      release();
      for (const action of committed) action();
    },
    abort() {
      fs.rmSync(working, { recursive: true, force: true });
      release();
    },
  };
}

/** Whether a process with this id is running (signal 0 checks without sending anything). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.partial-<pid>` folders in `parent` left by processes that are no longer running. */
export function removeAbandonedPartials(parent: string): void {
  for (const entry of fs.readdirSync(parent, { withFileTypes: true })) {
    const match = /^\..+\.partial-(\d+)$/.exec(entry.name);
    if (!entry.isDirectory() || !match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && !isRunning(pid)) fs.rmSync(path.join(parent, entry.name), { recursive: true, force: true });
  }
}
