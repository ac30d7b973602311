// Layer walks (stacking, directions, dropout) are written once as generators that yield backend
// calls; these drivers run them synchronously or asynchronously, so forward/forwardAsync and
// backward/backwardAsync cannot drift apart.
import type { Backend, BackendLayer, BackwardArgs, LayerForward, Workspace } from '../backend/types';

/** A layer's directions go forward in one call (the backend may run them side by side). */
export type BackendCall =
  | { backend: Backend; forward: LayerForward[] }
  | { layer: BackendLayer; backward: BackwardArgs };

export type Walk<R> = Generator<BackendCall, R, (Workspace | undefined)[] | undefined>;

export function runSync<R>(walk: Walk<R>): R {
  let step = walk.next();
  while (!step.done) {
    const call = step.value;
    if ('forward' in call) {
      step = walk.next(call.backend.forwardLayers(call.forward));
    } else {
      call.layer.backward(call.backward);
      step = walk.next(undefined);
    }
  }
  return step.value;
}

export async function runAsync<R>(walk: Walk<R>): Promise<R> {
  let step = walk.next();
  while (!step.done) {
    const call = step.value;
    if ('forward' in call) {
      step = walk.next(await call.backend.forwardLayersAsync(call.forward));
    } else {
      await call.layer.backwardAsync(call.backward);
      step = walk.next(undefined);
    }
  }
  return step.value;
}
