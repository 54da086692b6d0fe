/**
 * Finding profiles: the built-in `hardware-profiles/*.json` of the package, or a JSON file the user
 * names (`--profile ./my-chip.json`). A user adds a target by dropping a file that validates against
 * `hardware-profile.schema.json`; nothing has to be registered in code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, SpecError, UnknownNameError } from '../base/errors.js';
import { parseProfile, type Profile } from './profile.js';

export const PROFILE_SCHEMA_FILE = 'hardware-profile.schema.json';

/** The package's `hardware-profiles/` folder (found from this module, whether run from src/ or dist/). */
export function builtinProfileDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'hardware-profiles');
    if (fs.existsSync(path.join(candidate, PROFILE_SCHEMA_FILE))) return candidate;
    dir = path.dirname(dir);
  }
  throw new DataError('cannot find the hardware-profiles/ folder of the neurodyn package; reinstall it');
}

export function readProfileFile(file: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(`cannot read hardware profile ${file}: ${(e as Error).message}`);
  }
  return parseProfile(raw, path.basename(file));
}

/** Every profile in a folder (default: the built-in ones), sorted by id; ids must be unique and match the file names. */
export function listProfiles(dir = builtinProfileDir()): Profile[] {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== PROFILE_SCHEMA_FILE).sort();
  const profiles = files.map((f) => readProfileFile(path.join(dir, f)));
  for (const [i, p] of profiles.entries()) {
    if (`${p.id}.json` !== files[i]) throw new SpecError(`${files[i]}: id`, `must match the file name (got ${JSON.stringify(p.id)})`);
  }
  return profiles.sort((a, b) => a.id.localeCompare(b.id));
}

/** `--profile` accepts a built-in id or the path of a JSON file. */
export function loadProfile(nameOrFile: string, option = '--profile'): Profile {
  if (nameOrFile.endsWith('.json') || nameOrFile.includes('/') || nameOrFile.includes(path.sep)) {
    if (!fs.existsSync(nameOrFile)) throw new SpecError(option, `profile file ${nameOrFile} does not exist`);
    return readProfileFile(nameOrFile);
  }
  const profiles = listProfiles();
  const found = profiles.find((p) => p.id === nameOrFile);
  if (!found) throw new UnknownNameError(option, 'hardware profile', nameOrFile, profiles.map((p) => p.id));
  return found;
}
