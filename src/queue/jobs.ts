// What a job carries (JSON, so names of keys, never the bytes) and what a worker writes back.

export const FORWARD = 'forward';
export const TRAIN = 'train';

interface JobBase {
  /** The run this job belongs to: while its key exists the producer still wants the result. */
  run: string;
  /** Written only while `guard` exists (checked and written in one step). */
  guard: string;
  output: string;
}

/** A shard of an InferenceQueue run: one batched forward over its sequences. */
export interface ForwardJob extends JobBase {
  /** Content hash of the model blob. */
  model: string;
  /** Key of the shard's inputs (also its guard: the producer deletes it once the shard is delivered). */
  input: string;
  shard: number;
}

/** One configuration of a sweep: `cellscan train` with these flags. */
export interface TrainJob extends JobBase {
  /** Content hash of the text blob. */
  text: string;
  /** The producer's name for the text, for the log. */
  textName: string;
  flags: string[];
  /** Where the worker saves the checkpoint (on its own machine). */
  checkpoint: string;
  label: string;
}

/** A training job's output (JSON): the run's log as `cellscan train --log` writes it. */
export interface TrainOutput {
  log: unknown;
  host: string;
  checkpoint: string;
  seconds: number;
}

/** What a training job reports as it goes (a line of `cellscan train` each time it checkpoints). */
export interface TrainProgress {
  step: number;
  trainLoss: number;
  validLoss: number | null;
}
