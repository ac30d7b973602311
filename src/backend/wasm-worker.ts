// A worker thread of the wasm backend (started by wasm-pool.ts from the built dist/ copy of this
// file): its own instance of the module, the layers it was sent, packed once in its own memory, and
// one job at a time. Every error goes back as the job's answer, never as an uncaught exception.
import { parentPort, workerData } from 'worker_threads';
import { sumPartials } from './wasm-gradient-sum';
import { webAssembly } from './wasm-js-api';
import { type BackwardJob, type ForwardAnswer, type ForwardJob, type FromWorker, type LayerImage, type ToWorker, WORKER_PROTOCOL, serializeError } from './wasm-messages';
import { instantiateCompiled } from './wasm-module';
import { PackedLayer, paramSlots } from './wasm-packed-layer';
import type { LayerParams } from './types';

const data = workerData as { protocol: number; module: object };
if (data.protocol !== WORKER_PROTOCOL) {
  throw new Error(`the wasm worker script (${__filename}) speaks protocol ${WORKER_PROTOCOL}, the library ${data.protocol}: ` +
    'it was built from other sources; rebuild with `npm run build`');
}
const kernels = instantiateCompiled(webAssembly!, data.module);
const layers = new Map<number, PackedLayer>();

function load(image: LayerImage, where: string): PackedLayer {
  const params: Partial<LayerParams> = {};
  for (const s of paramSlots(image.spec).slots) params[s.field] = image.params.subarray(s.offset, s.offset + s.length);
  const layer = new PackedLayer(kernels, image.spec, params as LayerParams, where);
  layers.set(image.id, layer);
  return layer;
}

function layerOf(job: ForwardJob | BackwardJob): PackedLayer {
  const held = layers.get(job.layer);
  if (held) return held;
  if (!job.load) throw new Error(`${job.where}: the wasm worker was not sent layer ${job.layer}`);
  return load(job.load, job.where);
}

function drop(id: number): void {
  layers.get(id)?.free();
  layers.delete(id);
}

function forward(job: ForwardJob): ForwardAnswer {
  const layer = layerOf(job);
  const workspaces = job.ranges.map((r, i) => {
    const lent = job.workspaces?.[i];
    const w = layer.forwardRows(job.where, job.args, r, (bytes) => (lent?.byteLength === bytes ? lent : new Uint8Array(new SharedArrayBuffer(bytes))));
    return w && w.bytes === lent ? null : w?.bytes;
  });
  return job.args.training ? (workspaces as (Uint8Array | null)[]) : undefined;
}

function backward(job: BackwardJob): void {
  const layer = layerOf(job);
  job.groups.forEach(({ range, workspace }, i) => {
    const block = job.fold ? job.partials : job.partials.subarray((job.first + i) * job.length, (job.first + i + 1) * job.length);
    layer.backwardRows(job.where, workspace, job.args, job.B, range, block, job.fold && i > 0);
  });
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.kind === 'drop') {
    drop(m.layer);
    return;
  }
  let answer: FromWorker;
  try {
    let value: unknown;
    if (m.kind === 'forward') value = forward(m);
    else if (m.kind === 'backward') backward(m);
    else sumPartials(m.out, m.partials, m.count, m.length, m.start, m.end);
    answer = { id: m.id, ok: true, value };
  } catch (e) {
    answer = { id: m.id, ok: false, error: serializeError(e) };
  }
  parentPort!.postMessage(answer);
});
