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
 */
import fs from 'node:fs';
import path from 'node:path';
import { SpecError } from '../base/errors.js';
import { writeFileAtomic } from './atomic-write.js';

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
  /** Moves the folder into place. */
  commit(): void;
  /** Removes the working folder. */
  abort(): void;
}

function checkName(name: string): void {
  if (name === '' || path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) throw new Error(`run folder file name ${JSON.stringify(name)} must be relative and stay inside the folder`);
}

export function openRunFolder(destination: string): RunFolder {
  const dest = path.resolve(destination);
  if (fs.existsSync(dest) && (!fs.statSync(dest).isDirectory() || fs.readdirSync(dest).length > 0)) {
    throw new SpecError('--out', `${dest} already exists and is not an empty folder; choose another --out or remove it`);
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  removeAbandonedPartials(path.dirname(dest));
  const working = path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${process.pid}`);
  fs.rmSync(working, { recursive: true, force: true });
  fs.mkdirSync(working, { recursive: true });
  const written = new Set<string>();
  const target = (name: string) => {
    checkName(name);
    const file = path.join(working, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    written.add(name);
    return file;
  };
  return {
    destination: dest,
    workingDir: working,
    writeJson: (name, value) => writeFileAtomic(target(name), `${JSON.stringify(value, null, 2)}\n`),
    writeText: (name, text) => writeFileAtomic(target(name), text),
    writeBytes: (name, bytes) => writeFileAtomic(target(name), bytes),
    appendMetrics: (record) => fs.appendFileSync(target('metrics.jsonl'), `${JSON.stringify(record)}\n`),
    files: () => [...written].sort(),
    commit() {
      if (fs.existsSync(dest)) fs.rmdirSync(dest);
      fs.renameSync(working, dest);
    },
    abort() {
      fs.rmSync(working, { recursive: true, force: true });
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
