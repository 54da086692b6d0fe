/**
 * train() with a checkpoint after every epoch, for the long jobs that have several trainings (LCANet's
 * dictionary, head and baseline). Under `label` the store keeps the parameters, the optimizer state and
 * the metrics lines of the epochs done; a resumed run restores them, writes the restored lines again (so
 * its metrics.jsonl reads as an uninterrupted run's) and continues at the next epoch. train() draws the
 * data order and batch randomness from the seed by epoch and batch index, so the resumed training ends
 * with the same parameters, bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkpointTensors, fromCheckpointTensors, type OptimizerState, type ParamMap } from '../learning/optimizers.js';
import { train, type EpochReport, type TrainRequest } from '../learning/train.js';
import type { CheckpointStore } from '../runs/checkpoints.js';

export interface CheckpointedTraining {
  readonly checkpoints: CheckpointStore;
  readonly label: string;
  /** Where the metrics lines go (the run folder). */
  readonly appendMetrics: (line: Readonly<Record<string, unknown>>) => void;
  /** The epoch's metrics line, from the report and the parameters after it. */
  readonly epochLine: (report: EpochReport, params: ParamMap) => Record<string, unknown>;
  /** After the line is written and the checkpoint saved (a progress message). */
  readonly afterEpoch?: (line: Record<string, unknown>, report: EpochReport) => void;
  /** Told when a checkpoint is restored. */
  readonly say: (line: string) => void;
  /** Called once before training with the epochs left to train (not called when a checkpoint says all are done): where a progress bar gets its total. */
  readonly beforeTraining?: (epochsLeft: number) => void;
}

/** Trains as train() does, resuming from and saving to the checkpoint store. `request.params` are consumed either way. */
export async function trainWithCheckpoints(request: Omit<TrainRequest, 'onEpoch' | 'startEpoch' | 'optimizerState'>, c: CheckpointedTraining): Promise<{ params: ParamMap; state: OptimizerState }> {
  const saved = c.checkpoints.load(c.label);
  let params = request.params;
  let optimizerState: OptimizerState | undefined;
  const history: Record<string, unknown>[] = [];
  if (saved) {
    const restored = fromCheckpointTensors(saved.tensors, Object.keys(request.params), saved.record.optimizerStep as number);
    tf.dispose(Object.values(request.params));
    params = restored.params;
    optimizerState = restored.state;
    for (const line of (saved.record.history as Record<string, unknown>[]) ?? []) {
      history.push(line);
      c.appendMetrics(line);
    }
    c.say(`${c.label}: resuming after epoch ${saved.epoch} of ${request.epochs}`);
  }
  const done = saved?.epoch ?? 0;
  if (done >= request.epochs) return { params, state: optimizerState! };
  c.beforeTraining?.(request.epochs - done);
  return train({
    ...request,
    params,
    ...(optimizerState ? { optimizerState } : {}),
    startEpoch: done,
    onEpoch: (report, current, state) => {
      const line = c.epochLine(report, current);
      history.push(line);
      c.appendMetrics(line);
      c.checkpoints.save(c.label, { epoch: report.epoch + 1, tensors: checkpointTensors(current, state), arrays: {}, record: { history, optimizerStep: state.step } });
      c.afterEpoch?.(line, report);
    },
  });
}
