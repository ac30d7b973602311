// Central-difference numerical gradient, used to check analytic gradients against the float64 reference.

// (f: scalar function of x's current contents, x [n], indices [m]) -> df/dx at those indices [m];
// each x[indices[j]] is perturbed in place and restored before the next one
export function centralDifferenceAt(
  f: () => number,
  x: Float64Array | Float32Array,
  indices: ArrayLike<number>,
  eps = 1e-6,
): Float64Array {
  const grad = new Float64Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    const e = indices[j];
    if (!Number.isInteger(e) || e < 0 || e >= x.length) throw new RangeError(`centralDifference: index ${e} outside 0..${x.length - 1}`);
    const orig = x[e];
    x[e] = orig + eps;
    const xPlus = x[e]; // the value actually stored (rounded when x is a Float32Array)
    const fPlus = f();
    x[e] = orig - eps;
    const xMinus = x[e];
    const fMinus = f();
    x[e] = orig;
    // divide by the realized step: equals 2·eps up to the rounding of x's element type
    const step = xPlus - xMinus;
    if (step === 0) throw new RangeError(`centralDifference: eps ${eps} vanishes next to x[${e}] = ${orig}`);
    grad[j] = (fPlus - fMinus) / step;
  }
  return grad;
}

// (f: scalar function of x's current contents, x [n]) -> df/dx [n]; x is perturbed in place and restored
export function centralDifference(f: () => number, x: Float64Array | Float32Array, eps = 1e-6): Float64Array {
  const all = new Array<number>(x.length);
  for (let e = 0; e < x.length; e++) all[e] = e;
  return centralDifferenceAt(f, x, all, eps);
}
