/**
 * `neurodyn view`: a server on 127.0.0.1 for the live view. It serves static things only (the page with
 * its bundled script, the manifest, the parameters and examples as raw float32), except where the page
 * cannot relax the model itself (no WebGL, or `mode=server` in its URL): then /relax streams the frames,
 * computed in Node by the same relaxation code, as one JSON line each, after a line with the perturbed
 * input (a corruption, or an attack computed here by the same src/attacks code the page bundles).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs-core';
import { NeurodynError, SpecError } from '../../base/errors.js';
import { browserBundle } from '../report/report.js';
import { parseViewState } from './manifest.js';
import { cleanExample, perturbedExample, type PerturbedExample } from './perturb.js';
import { openRelaxation } from './relaxation.js';
import type { ViewSource } from './source.js';
import { viewModel } from './view-model.js';

export interface ViewServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function page(title: string): string {
  const escaped = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escaped}: neurodyn view</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="view">Loading the model…</div><script>${browserBundle('view').replace(/<\/script/gi, '<\\/script')}</script></body></html>`;
}

export async function startViewServer(source: ViewSource, port: number): Promise<ViewServer> {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new SpecError('--port', `must be an integer from 0 (any free port) to 65535, got ${port}`);
  const html = page(source.manifest.title);
  const { manifest } = source;
  const pixels = manifest.imageShape[0] * manifest.imageShape[1];
  // The server's own model, for streamed relaxations (built on first use; wasm in Node).
  let model: ReturnType<typeof viewModel> | undefined;
  const relaxStream = (url: URL, res: http.ServerResponse) => {
    const state = parseViewState(url.search);
    const index = Math.min(state.example, manifest.examples.count - 1);
    model ??= viewModel(manifest, Object.fromEntries(Object.entries(source.params).map(([k, t]) => [k, tf.clone(t)])));
    const inputs: Array<[string, Float32Array]> = [['clean', cleanExample(source.images, index, pixels)]];
    let perturbed: PerturbedExample | undefined;
    try {
      perturbed = perturbedExample(model, source.images, manifest, state, index);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end((e as Error).message);
      return;
    }
    if (perturbed) inputs.push(['perturbed', perturbed.image]);
    const relaxations = inputs.map(([which, image]) => [which, openRelaxation(model!, image)] as const);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // The perturbed input first (an attack's output is computed here, so the page cannot draw it itself).
    if (perturbed) res.write(`${JSON.stringify({ which: 'perturbed', input: Array.from(perturbed.image), title: perturbed.title })}\n`);
    let closed = false;
    res.on('close', () => (closed = true));
    const pump = () => {
      let more = false;
      for (const [which, r] of relaxations) {
        for (const frame of r.advance(state.speed)) res.write(`${JSON.stringify({ which, frame })}\n`);
        more ||= r.steps() < manifest.run.maxSteps;
      }
      if (more && !closed) setImmediate(pump);
      else {
        for (const [, r] of relaxations) r.dispose();
        res.end();
      }
    };
    pump();
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (type: string, body: string | Uint8Array) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (req.method !== 'GET') {
        res.writeHead(405).end();
        return;
      }
      if (url.pathname === '/') return send('text/html; charset=utf-8', html);
      if (url.pathname === '/manifest.json') return send('application/json', JSON.stringify(manifest));
      if (url.pathname === '/examples.bin') return send('application/octet-stream', source.exampleBytes);
      const param = /^\/params\/(\d+)\.bin$/.exec(url.pathname);
      if (param && source.paramBytes[Number(param[1])]) return send('application/octet-stream', source.paramBytes[Number(param[1])]!);
      if (url.pathname === '/relax') return relaxStream(url, res);
      if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(e instanceof NeurodynError ? e.message : 'internal error');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new SpecError('--port', `port ${port} on 127.0.0.1 is already in use; pass another --port, or --port 0 for any free one`));
      else if (e.code === 'EACCES') reject(new SpecError('--port', `port ${port} needs privileges this user lacks; use a port above 1023, or 0 for any free one`));
      else reject(e);
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          model?.dispose();
          resolve();
        });
      }),
  };
}
