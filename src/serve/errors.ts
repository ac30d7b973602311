// The Batcher's own refusals. Both extend Error, not RangeError/TypeError: in this library those two
// mean "your argument is wrong" (a service answers 400), whereas a full queue or a closed Batcher
// refuses a valid request for a while (503, retry). A handler testing `instanceof RangeError` must
// not take overload for a client bug.

/** `run` found `maxQueue` requests already waiting: backpressure, retry later. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';

  constructor(readonly maxQueue: number) {
    super(`Batcher.run: the queue is full (maxQueue = ${maxQueue} requests waiting); retry later or raise maxQueue`);
  }
}

/** `run` after `close()`: the Batcher takes no new request. */
export class BatcherClosedError extends Error {
  override readonly name = 'BatcherClosedError';

  constructor() {
    super('Batcher.run: the Batcher is closed');
  }
}
