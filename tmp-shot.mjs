import { chromium } from 'playwright-core';
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync','--use-angle=swiftshader','--enable-unsafe-swiftshader'] });
console.log('launch ms', Date.now()-t0);
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const errors = []; page.on('console', m => { if (m.type()==='error') errors.push(m.text()); }); page.on('pageerror', e => errors.push(String(e.stack).slice(0,600)));
const requests = []; page.on('request', r => requests.push(r.url().slice(0,80)));
const file = process.argv[2];
const t1 = Date.now();
await page.goto('file://' + file);
await page.waitForFunction(() => document.documentElement.dataset.ready || document.documentElement.dataset.error, null, { timeout: 60000 });
console.log('load ms', Date.now()-t1, 'ready', await page.evaluate(() => document.documentElement.dataset.ready), 'errors', errors, 'requests', requests.filter(u=>!u.startsWith('file:')&&!u.startsWith('data:')));
const gl = await page.evaluate(() => { const c = document.createElement('canvas'); const g = c.getContext('webgl2') || c.getContext('webgl'); return g ? g.getParameter(g.VERSION) + ' / ' + (g.getExtension('WEBGL_debug_renderer_info') ? g.getParameter(g.getExtension('WEBGL_debug_renderer_info').UNMASKED_RENDERER_WEBGL) : '') : 'no webgl'; });
console.log('webgl', gl);
const H = await page.evaluate(() => document.body.scrollHeight); console.log('height', H);
for (let i = 0; i * 900 < Math.min(H, 900 * Number(process.argv[4] ?? 3)); i++) { await page.evaluate((y) => window.scrollTo(0, y), i * 900); await page.screenshot({ path: process.argv[3].replace('.png', `-${i}.png`) }); }
await browser.close();
