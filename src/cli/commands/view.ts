import { loadViewSource } from '../../app/view/source.js';
import { startViewServer } from '../../app/view/server.js';
import { useBackend } from '../../tensor/index.js';
import { SpecError } from '../../base/errors.js';

export interface ViewCommandOptions {
  readonly port?: string;
  readonly dataDir?: string;
}

export async function viewCommand(specOrRun: string, options: ViewCommandOptions): Promise<void> {
  const port = options.port === undefined ? 8123 : Number(options.port);
  if (!(/^\d+$/.test(String(options.port ?? '8123')) && port <= 65535)) throw new SpecError('--port', `must be an integer from 0 (any free port) to 65535, got ${JSON.stringify(options.port)}`);
  // The server's own relaxations (streamed mode) run on wasm, like every other command.
  await useBackend('wasm');
  const source = loadViewSource(specOrRun, options.dataDir);
  const server = await startViewServer(source, port);
  process.stdout.write(`neurodyn view: ${source.manifest.title} at ${server.url} (Ctrl-C to stop)\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
