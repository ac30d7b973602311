// The parameter gradients of a training call's row groups, summed in group order element by
// element: ((P0 + P1) + P2) + ..., each addition rounded to float32 as the one-thread fold in
// PackedLayer.backwardRows rounds it (a Float32Array store rounds; a JavaScript addition of two
// floats is exact enough in double that rounding it once gives the float32 sum). Elements are
// independent, so cutting them into ranges for several threads changes no bit.

/** partials: `count` blocks of `length` floats back to back; writes their sum to out[start, end). */
export function sumPartials(out: Float32Array, partials: Float32Array, count: number, length: number, start: number, end: number): void {
  out.set(partials.subarray(start, end), start);
  for (let g = 1; g < count; g++) {
    const p = partials.subarray(g * length, (g + 1) * length);
    for (let e = start; e < end; e++) out[e] += p[e];
  }
}

/** into[field] += sum over elements [start, end) of the compact layout: a call's gradients added to the caller's. */
export function addGradients(into: Record<string, Float32Array | undefined>, sum: Float32Array,
  slots: readonly { field: string; offset: number; length: number }[], start: number, end: number): void {
  for (const slot of slots) {
    const from = Math.max(start, slot.offset);
    const to = Math.min(end, slot.offset + slot.length);
    if (from >= to) continue;
    const dst = into[slot.field]!;
    for (let e = from; e < to; e++) dst[e - slot.offset] += sum[e];
  }
}
