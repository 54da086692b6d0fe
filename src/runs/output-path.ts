/**
 * Where commands write: one place that turns the file system's refusals into one message naming the path
 * and the cause (a NeurodynError, never Node's raw `EACCES: permission denied, mkdir …`), and that refuses
 * up front the outputs no write could honour: kernel folders (/proc, /sys, /dev: Node's recursive mkdir
 * under /proc spins forever), symbolic links (a rename would replace the link, not write where it points),
 * names longer than the file system allows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputError, SpecError } from '../base/errors.js';
import { writeFileAtomic } from './atomic-write.js';

const CAUSES: Readonly<Record<string, string>> = {
  ENOENT: 'a folder on the way does not exist',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  EEXIST: 'something is already there',
  ENOTEMPTY: 'a folder is already there and is not empty',
  ENAMETOOLONG: 'the name is too long for the file system',
  ELOOP: 'too many symbolic links on the way',
  EMFILE: 'too many open files',
  EBUSY: 'the path is busy',
  EXDEV: 'the temporary and final locations are on different file systems',
};

/** The cause of a Node file-system error in words, or undefined if `e` is not one. */
export function fsCause(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return `${CAUSES[code] ?? (e as Error).message} (${code})`;
}

/** Runs a file-system action; a refusal becomes an OutputError "cannot <what> <target>: <cause>". */
export function writing<T>(what: string, target: string, action: () => T): T {
  try {
    return action();
  } catch (e) {
    const cause = fsCause(e);
    if (cause === undefined) throw e;
    throw new OutputError(`cannot ${what} ${target}: ${cause}`);
  }
}

const KERNEL_FOLDERS = ['/proc', '/sys', '/dev'];
/** The longest file name most file systems take (ext4, xfs, btrfs, tmpfs). */
const NAME_MAX = 255;
/** What the hidden working names add to a name: `.<name>.partial-<pid>`, `.<name>.tmp-<pid>`, `.<name>.checkpoint`. */
const HIDDEN_NAME_EXTRA = 24;

/**
 * Checks an output path (`option` names where it came from, e.g. `--out`) before anything is written:
 * not in a kernel folder, not a symbolic link (dangling or not), no component too long, no file where a
 * folder is needed on the way. Returns the absolute path.
 */
export function checkOutputPath(target: string, option: string): string {
  if (target.trim() === '') throw new SpecError(option, 'is empty; give a path');
  const abs = path.resolve(target);
  const kernel = KERNEL_FOLDERS.find((k) => abs === k || abs.startsWith(`${k}/`));
  if (kernel) throw new SpecError(option, `${abs} is inside ${kernel}, a kernel folder where files cannot be written; choose a path on a disk`);
  for (const part of abs.split(path.sep)) {
    if (Buffer.byteLength(part) + HIDDEN_NAME_EXTRA > NAME_MAX) {
      throw new SpecError(option, `the name ${JSON.stringify(part.length > 40 ? `${part.slice(0, 37)}...` : part)} is ${Buffer.byteLength(part)} bytes; names here must stay under ${NAME_MAX - HIDDEN_NAME_EXTRA} bytes (the file system allows ${NAME_MAX}, and the hidden working copy adds to it)`);
    }
  }
  let link: fs.Stats | undefined;
  try {
    link = fs.lstatSync(abs);
  } catch {
    link = undefined;
  }
  if (link?.isSymbolicLink()) {
    const to = fs.readlinkSync(abs);
    const dangling = !fs.existsSync(abs);
    throw new SpecError(option, `${abs} is a symbolic link to ${to}${dangling ? ', which does not exist (a dangling link)' : ''}; pass the real path${dangling ? '' : ` (${fs.realpathSync(abs)})`} or remove the link`);
  }
  // The nearest existing ancestor must be a folder.
  let up = path.dirname(abs);
  while (!fs.existsSync(up)) up = path.dirname(up);
  if (!fs.statSync(up).isDirectory()) throw new OutputError(`cannot write ${abs}: ${up} is a file, not a folder`);
  return abs;
}

/** Creates the folder that will hold `file` (and its parents), with a clear error if the file system refuses. */
export function makeParentFolder(file: string): void {
  const parent = path.dirname(file);
  writing('create the folder', parent, () => fs.mkdirSync(parent, { recursive: true }));
}

/** Checks an output file's path (as checkOutputPath; not an existing folder) and creates its parents. */
export function prepareOutputFile(file: string, option: string): string {
  const abs = checkOutputPath(file, option);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new SpecError(option, `${abs} is a folder; give a file name inside it (for example ${path.join(abs, 'out')}...)`);
  makeParentFolder(abs);
  return abs;
}

/**
 * Writes one output file (`option` names where its path came from): checked as checkOutputPath, parents
 * created, written atomically (a failure leaves no part of it), every refusal one clear error.
 */
export function writeOutputFile(file: string, data: string | Uint8Array, option: string): string {
  const abs = prepareOutputFile(file, option);
  writing('write', abs, () => writeFileAtomic(abs, data));
  return abs;
}
