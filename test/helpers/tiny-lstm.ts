// One small LSTM layer direction (I = 3, H = 4, T = 5, B = 2) in the backends' own argument shapes,
// for the tests that call a backend layer directly at its boundary.
export const tinyLstmSpec = {
  cell: 'lstm',
  inputSize: 3,
  hiddenSize: 4,
  projSize: 0,
  bias: true,
  peepholes: false,
  linearBeforeReset: true,
  reverse: false,
} as const;

export function tinyLstmWeights() {
  return {
    wIh: new Float32Array(16 * 3).fill(0.1),
    wHh: new Float32Array(16 * 4).fill(0.1),
    bIh: new Float32Array(16),
    bHh: new Float32Array(16),
  };
}

/** Forward arguments for T = 5, B = 2, with `over` replacing any of them. */
export function tinyLstmForwardArgs(over: Record<string, unknown> = {}) {
  return {
    T: 5,
    B: 2,
    x: new Float32Array(30).fill(0.5),
    y: new Float32Array(40),
    yStride: 4,
    hN: new Float32Array(8),
    cN: new Float32Array(8),
    training: false,
    ...over,
  };
}
