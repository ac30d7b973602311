// Preloaded (node -r) into each training child of `cellscan worker`. A worker killed outright
// (SIGKILL) cannot stop its child, and BullMQ gives the job to another worker: the orphan would
// train on for nothing. Its IPC channel closes when the worker dies, and then it stops too.
if (process.send !== undefined) {
  process.on('disconnect', () => process.exit(1));
  // The channel itself must not keep a finished training alive.
  process.channel?.unref();
}
