// Measures the report and the live view in Debian's headless Chromium (SwiftShader WebGL, no GPU):
//   node bench/browser-measure.mjs report <report.html>...          size and load time (goto → every chart drawn)
// SCREENSHOT=<file.png> writes a screenshot too (the report's full page, one per file; the view's first run).
//   node bench/browser-measure.mjs view <run-folder> [query] [runs]   frames/s of the live view, in the page
// The view is started on a free port with the built CLI; each run plays the whole relaxation once, the first
// (shader compilation) reported apart. Plain JS so that it runs without a build of its own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { chromium } from 'playwright-core';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const [what, ...rest] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ARGS });
try {
  if (what === 'report') {
    for (const file of rest) {
      const times = [];
      for (let i = 0; i < 3; i++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        const t = performance.now();
        await page.goto(`file://${fs.realpathSync(file)}`);
        await page.waitForFunction(() => document.documentElement.dataset.ready || document.documentElement.dataset.error, null, { timeout: 120000 });
        times.push(performance.now() - t);
        if (i === 0 && process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT.replace(/(\.png)?$/, `-${rest.indexOf(file)}.png`), fullPage: true });
        await page.close();
      }
      console.log(JSON.stringify({ file, bytes: fs.statSync(file).size, load_ms: times.map((t) => Math.round(t)) }));
    }
  } else if (what === 'view') {
    const [folder, query = '', runs = '3'] = rest;
    const server = spawn(process.execPath, ['dist/src/cli/main.js', 'view', folder, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise((resolve) => server.stdout.on('data', (d) => { const m = /at (http:\S+)/.exec(String(d)); if (m) resolve(m[1]); }));
    try {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      const results = [];
      for (let r = 0; r < Number(runs); r++) {
        await page.goto(`${url}?example=${r}${query}`);
        await page.waitForFunction(() => window.__neurodyn && (window.__neurodyn.error || window.__neurodyn.lastRun), null, { timeout: 300000 });
        const n = await page.evaluate(() => ({ mode: window.__neurodyn.mode, backend: window.__neurodyn.backend, error: window.__neurodyn.error, lastRun: window.__neurodyn.lastRun }));
        if (n.error) throw new Error(n.error);
        results.push({ run: r, ...n, fps: Number(((n.lastRun.frames - 1) / n.lastRun.seconds).toFixed(1)) });
        if (r === 0 && process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
      }
      console.log(JSON.stringify({ folder, query, results }));
    } finally {
      server.kill('SIGTERM');
    }
  } else throw new Error('usage: browser-measure.mjs report <html>... | view <run-folder> [query] [runs]');
} finally {
  await browser.close();
}
