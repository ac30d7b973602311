// The timings that SPEC §10's guarantees rest on, in one place: a killed worker's shard is back in
// the queue within 10 s, and nothing waits without end on a Redis that has gone away.

/**
 * A worker holds a job's lock this long and renews it every half of it. A worker that dies stops
 * renewing, so its job's lock lapses at most this long after the death. BullMQ's default (30 s) is
 * three times what SPEC §10 allows for the whole recovery.
 */
export const LOCK_MS = 4000;

/**
 * How often the workers look for jobs whose lock lapsed. A check moves back every job it finds
 * unlocked that an earlier check had marked, and any check within a lock's life marks it, so a
 * dead worker's job is queued again at most LOCK_MS + STALLED_INTERVAL_MS (6 s) after the death.
 */
export const STALLED_INTERVAL_MS = 2000;

/** A job taken back this many times (its workers kept dying) fails instead of killing more. */
export const MAX_STALLED = 3;

/** Tries of a job that throws an ordinary error (a Redis hiccup); a job's own bad data fails at once. */
export const ATTEMPTS = 3;
export const RETRY_DELAY_MS = 500;

/**
 * Every key cellscan writes expires after this long unless its run refreshes it: a producer that
 * dies without cleaning up leaves nothing behind for longer. Live runs refresh theirs every quarter.
 */
export const KEY_TTL_MS = 60 * 60 * 1000;

/** How long Redis may stay unreachable before a run gives up with an error (the default of `redisTimeoutMs`). */
export const REDIS_TIMEOUT_MS = 30_000;

/**
 * Events carry completions to the producer; when a run has heard nothing for this long it asks
 * Redis directly, so an event lost to a dropped connection or a trimmed stream costs a delay, not the run.
 */
export const QUIET_POLL_MS = 3000;

/** Reconnection attempts back off to at most this (ioredis grows to 20 s under BullMQ's default). */
export const MAX_RECONNECT_DELAY_MS = 1000;

/** Events kept in BullMQ's stream per queue (its default is 10 000): enough for every open run to read them. */
export const EVENTS_KEPT = 2000;

/** Failed jobs BullMQ keeps (the producer removes each one it has reported, so these are only a dead producer's). */
export const FAILED_KEPT = { age: 24 * 3600, count: 1000 };
