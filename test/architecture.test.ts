/**
 * The folder layout is the architecture: imports point downwards only. Each top-level folder of src/ has a
 * rank; a module may import from a lower rank or its own folder, never from a higher rank or a sibling of
 * the same rank (learning/, attacks/ and hardware/ know nothing of each other). A family's system files
 * import only core/, tensor/, base/ and the family's other system files, so the maths stays importable on
 * its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../src');
const RANK: Record<string, number> = {
  base: 0,
  tensor: 1,
  data: 2,
  core: 3,
  export: 4,
  runs: 5,
  learning: 6,
  attacks: 6,
  hardware: 6,
  families: 7,
  spec: 8,
  app: 9,
  cli: 10,
  '(root)': 11,
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'vendor' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => path.resolve(path.dirname(file), m[1]!));
}

const topFolder = (file: string) => {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 ? parts[0]! : '(root)';
};

describe('architecture', () => {
  const files = sourceFiles(SRC);

  it('every top-level folder of src/ has a rank', () => {
    const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => RANK[f] === undefined)).toEqual([]);
  });

  it('imports point downwards only (no upward edge, no edge between siblings of one rank)', () => {
    const bad: string[] = [];
    for (const file of files) {
      const from = topFolder(file);
      for (const target of relativeImports(file)) {
        const to = topFolder(target);
        if (to === from) continue;
        if (!(RANK[to]! < RANK[from]!)) bad.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)} (${from} ${RANK[from]} → ${to} ${RANK[to]})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("a family's system files import only core/, tensor/, base/ and the family's own system files", () => {
    const bad: string[] = [];
    for (const file of files.filter((f) => /families\/[^/]+\/system[^/]*\.ts$/.test(path.relative(SRC, f).split(path.sep).join('/')))) {
      const family = path.dirname(file);
      for (const target of relativeImports(file)) {
        const ok = ['core', 'tensor', 'base'].includes(topFolder(target)) || (path.dirname(target) === family && /^system[^/]*\.(js|ts)$/.test(path.basename(target)));
        if (!ok) bad.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('every family folder is registered with one registerFamily line', () => {
    const folders = fs.readdirSync(path.join(SRC, 'families'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const index = fs.readFileSync(path.join(SRC, 'families', 'index.ts'), 'utf8');
    for (const folder of folders) expect(index, folder).toContain(`from './${folder}/index.js'`);
    expect((index.match(/^registerFamily\(/gm) ?? []).length).toBe(folders.length);
  });
});
