// Temporaries of one call (backward's gate gradients, carried state gradients, ...), handed out in
// order from a region the host allocated for the call. Each kernel's scratch size sits beside it
// and lists the same buffers; taking more than that is a bug, and traps instead of overrunning.
import { floatBytes } from './layout';

let next: usize = 0;
let end: usize = 0;

export function beginScratch(region: usize, bytes: usize): void {
  next = region;
  end = region + bytes;
}

export function scratchFloats(n: i32): usize {
  const p = next;
  next += <usize>floatBytes(<u64>n);
  if (next > end) unreachable();
  return p;
}

// What scratchFloats(n) takes, for the size functions.
@inline export function scratchSize(n: u64): u64 {
  return floatBytes(n);
}
