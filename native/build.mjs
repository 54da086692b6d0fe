#!/usr/bin/env node
/**
 * Builds the native kernels (native/binding.gyp) where they can be built, and never fails: this is the
 * package's `install` script, and a machine without OpenBLAS or oneDNN must still install neurodyn and run
 * on plain wasm. It skips the build, with one line saying why, when
 *   - NEURODYN_NATIVE=0 (or false/off/no) is set;
 *   - the headers or libraries of OpenBLAS (cblas.h, libopenblas.so) or oneDNN (dnnl.hpp, libdnnl.so) are
 *     not found (NEURODYN_NATIVE_SEARCH=dir1:dir2 replaces the folders searched, e.g. to simulate a machine
 *     without them);
 *   - node-addon-api or node-gyp cannot be found;
 * and, when the compiler fails, it says so, leaves the log in native/build.log and removes any earlier
 * addon (so that no stale binary is loaded). `npm run build:native` runs it by hand.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const addonFile = path.join(here, 'build', 'Release', 'neurodyn_native.node');
const log = path.join(here, 'build.log');
const say = (line) => console.log(`neurodyn native kernels: ${line}`);

function skip(why) {
  say(`not built (${why}); neurodyn runs on the plain wasm kernels. ` +
    'To enable them: apt-get install libopenblas-dev libdnnl-dev, then npm run build:native');
  process.exit(0);
}

if (/^(0|false|off|no)$/i.test(process.env.NEURODYN_NATIVE ?? '')) skip('NEURODYN_NATIVE=0');

const arch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? '';
const searched = process.env.NEURODYN_NATIVE_SEARCH?.split(':').filter(Boolean);
const includeDirs = searched ?? ['/usr/include', `/usr/include/${arch}`, '/usr/local/include'];
const libDirs = searched ?? [`/usr/lib/${arch}`, '/usr/lib', '/usr/lib64', '/usr/local/lib'];
const find = (dirs, file) => dirs.some((d) => existsSync(path.join(d, file)));
const missing = [
  ['cblas.h', includeDirs, 'libopenblas-dev'],
  ['libopenblas.so', libDirs, 'libopenblas-dev'],
  ['dnnl.hpp', includeDirs, 'libdnnl-dev'],
  ['libdnnl.so', libDirs, 'libdnnl-dev'],
].filter(([file, dirs]) => !find(dirs, file));
if (missing.length > 0) {
  const packages = [...new Set(missing.map(([, , pkg]) => pkg))].join(' ');
  skip(`${missing.map(([file]) => file).join(', ')} not found: ${packages} not installed`);
}

try {
  require.resolve('node-addon-api');
} catch {
  skip('the optional dependency node-addon-api is not installed');
}

/** npm hands its own node-gyp to install scripts; else a local one; else the one bundled with npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    (() => { try { return require.resolve('node-gyp/bin/node-gyp.js'); } catch { return undefined; } })(),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}
const gyp = nodeGyp();
if (!gyp) skip('node-gyp not found (it comes with npm)');

const args = [gyp, 'rebuild', `--directory=${here}`];
// Use this node's own headers where the distribution installed them (Debian's nodejs, official tarballs),
// instead of downloading them: install must work offline.
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

say('building (OpenBLAS and oneDNN found) ...');
const started = Date.now();
const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
writeFileSync(log, `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`);
if (run.status !== 0 || !existsSync(addonFile)) {
  rmSync(addonFile, { force: true });
  say(`the build failed (log: ${path.relative(process.cwd(), log)}); neurodyn runs on the plain wasm kernels`);
  process.exit(0);
}
say(`built ${path.relative(process.cwd(), addonFile)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
