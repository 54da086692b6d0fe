/**
 * The README's library example is code a new user copies: it is run here as written, against the built
 * package resolved by its own name (`import … from 'neurodyn'`), and its printed lines must be the ones the
 * README shows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const library = readme.slice(readme.indexOf('## Library'), readme.indexOf('\n## ', readme.indexOf('## Library') + 1));

describe('README', () => {
  it('runs the library example as written and prints what the README shows', () => {
    const blocks = [...library.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
    const code = blocks.find((b) => b[1] === 'js')?.[2];
    const shown = blocks.find((b, i) => b[1] === '' && i > 0)?.[2];
    expect(code, 'a ```js block in the Library section').toBeDefined();
    expect(fs.existsSync(path.join(ROOT, 'dist/src/index.js')), 'the package is built (npm test builds first)').toBe(true);
    // Inside the package folder, so that 'neurodyn' resolves to this package through its exports.
    const file = path.join(ROOT, 'dist', 'readme-library-example.mjs');
    fs.writeFileSync(file, code!);
    try {
      const out = execFileSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const lines = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('=') && !l.startsWith('Hi, looks like'));
      expect(lines).toEqual(shown!.trim().split('\n'));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }, 120000);

  it('shows commands to type as npx neurodyn (a bare neurodyn is not on PATH after npm install)', () => {
    const codeBlocks = [...readme.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const bare = codeBlocks.flatMap((b) => b.split('\n')).filter((l) => /^neurodyn\s/.test(l.trim()));
    expect(bare).toEqual([]);
  });
});
