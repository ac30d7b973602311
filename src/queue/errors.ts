// The queue's own failure, apart from the user's argument errors (TypeError/RangeError): a Redis
// that did not answer in time, one that lost a run's keys, or a queue closed under a run.
export class QueueConnectionError extends Error {
  override name = 'QueueConnectionError';
}
