import { SpecError } from '../../base/errors.js';
import { parseRedisUrl } from '../../app/sweep/redis.js';
import { runWorker } from '../../app/sweep/worker.js';

export interface WorkerCommandOptions {
  readonly queue: string;
  readonly concurrency?: string;
  readonly lockSeconds?: string;
}

export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  const connection = parseRedisUrl(options.queue);
  const parse = (text: string | undefined, option: string) => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new SpecError(option, `must be a positive integer; got ${JSON.stringify(text)}`);
    return Number(text);
  };
  const concurrency = parse(options.concurrency, '--concurrency');
  const lockSeconds = parse(options.lockSeconds, '--lock-seconds');
  await runWorker(connection, { ...(concurrency ? { concurrency } : {}), ...(lockSeconds ? { lockSeconds } : {}), say: (line) => process.stdout.write(`${line}\n`) });
  // The BullMQ worker still holds its connections and the jobs it was running; leaving now lets them be re-delivered.
  process.exit(0);
}
