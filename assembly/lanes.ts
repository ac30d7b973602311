// Rows of f32 processed four lanes at a time, whatever their length. The tail of a row goes through
// the same vector code as its body: loadLanes fills the lanes past the row with zeros instead of
// reading beyond it, and storeLanes writes only the lanes that exist. So every element gets the same
// arithmetic wherever it sits in its row, and no kernel touches memory outside its buffers.

// n: lanes that exist, 1..4 (4 and above read a whole vector).
@inline export function loadLanes(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

// Byte address of element i of a float array.
@inline export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

// Rows [index·B, (index+1)·B) of a [*, B, n] tensor: time step or state slot `index`.
@inline export function rowsAt(base: usize, index: i32, B: i32, n: i32): usize {
  return base + ((<usize>index * <usize>B * <usize>n) << 2);
}

// Row r of a matrix with rows n floats long.
@inline export function rowAt(base: usize, r: i32, n: i32): usize {
  return base + ((<usize>r * <usize>n) << 2);
}

// dst[i] = a[i] + b[i] for n floats (dst may be a or b).
export function addFloats(dst: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  if (i < n) storeLanes(at(dst, i), f32x4.add(loadLanes(at(a, i), n - i), loadLanes(at(b, i), n - i)), n - i);
}

// dst[i] = a[i] · b[i] for n floats.
export function multiplyFloats(dst: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dst, i), f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
  if (i < n) storeLanes(at(dst, i), f32x4.mul(loadLanes(at(a, i), n - i), loadLanes(at(b, i), n - i)), n - i);
}

@inline export function copyFloats(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}

@inline export function zeroFloats(dst: usize, n: i32): void {
  memory.fill(dst, 0, <usize>n << 2);
}
