/**
 * The reference Python `nir` package as an oracle, where this machine has it: Debian's python3 with
 * h5py and numpy, and the neuromorphs/NIR source tree (pure Python) at $NIR_REFERENCE_DIR (default
 * /tmp/nir-ref, holding the `nir/` package). CI without it runs the TypeScript round trips only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const NIR_REFERENCE_DIR = process.env.NIR_REFERENCE_DIR ?? '/tmp/nir-ref';
const PYTHON = '/usr/bin/python3';

function hasModules(modules: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const referenceNirAvailable = fs.existsSync(path.join(NIR_REFERENCE_DIR, 'nir', '__init__.py')) && hasModules('h5py, numpy');
export const numpyAvailable = hasModules('numpy');

/** Runs a Python snippet with the reference package importable; returns its stdout parsed as JSON. */
export function runPython(code: string): unknown {
  const out = execFileSync(PYTHON, ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(NIR_REFERENCE_DIR)})\n${code}`], { encoding: 'utf8' });
  return JSON.parse(out);
}
