// Layer walks (stacking, directions, dropout) are written once as generators that yield backend
// calls; these drivers run them synchronously or asynchronously, so forward/forwardAsync and
// backward/backwardAsync cannot drift apart.
import type { BackendLayer, BackwardArgs, ForwardArgs, Workspace } from '../backend/types';

export type BackendCall =
  | { layer: BackendLayer; forward: ForwardArgs }
  | { layer: BackendLayer; backward: BackwardArgs };

export type Walk<R> = Generator<BackendCall, R, Workspace | undefined>;

export function runSync<R>(walk: Walk<R>): R {
  let step = walk.next();
  while (!step.done) {
    const call = step.value;
    if ('forward' in call) {
      step = walk.next(call.layer.forward(call.forward));
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
      step = walk.next(await call.layer.forwardAsync(call.forward));
    } else {
      await call.layer.backwardAsync(call.backward);
      step = walk.next(undefined);
    }
  }
  return step.value;
}
