// Byte sizes of the buffers placed inside regions the host allocates. Sizes are u64 so that a layout
// too large for the 4 GiB address space is measured, and refused by the host, rather than wrapped.

// 16-byte alignment: every buffer starts on a v128 boundary.
@inline export function alignUp(bytes: u64): u64 {
  return (bytes + 15) & ~(<u64>15);
}

@inline export function floatBytes(n: u64): u64 {
  return alignUp(n << 2);
}
