// Independent float64 reference forward pass of LSTM / GRU / RNN layers (SPEC §3, PyTorch conventions).
// Written for clarity, not speed: plain loops over time, batch and units. Used as ground truth by tests.

export type Mode = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';

export interface RefConfig {
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  bias: boolean;
  projSize: number;
  peepholes: boolean;
  linearBeforeReset: boolean;
}

export interface RefInputs {
  input: Float64Array; // [T, B, I], or [B, T, I] when batchFirst
  T: number;
  B: number;
  h0?: Float64Array; // [L*D, B, Hout]
  c0?: Float64Array; // [L*D, B, H] (LSTM only)
  lengths?: ArrayLike<number>; // [B], each in 0..T
  dropoutMasks?: Float64Array[]; // masks[k] for k = 0..L-2: [T, B, D*Hout] time-major, already scaled
}

export interface RefOutputs {
  output: Float64Array; // [T, B, D*Hout], or [B, T, D*Hout] when batchFirst
  hN: Float64Array; // [L*D, B, Hout]
  cN?: Float64Array; // [L*D, B, H] (LSTM only)
}

// number of gates per cell: scalar
export function gateCount(mode: Mode): number {
  if (mode === 'LSTM') return 4;
  if (mode === 'GRU') return 3;
  return 1;
}

// logistic sigmoid: scalar -> scalar
function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

// fetch a parameter by name and check its element count: -> Float64Array [count]
function param(params: Map<string, Float64Array>, name: string, count: number): Float64Array {
  const p = params.get(name);
  if (p === undefined) throw new Error(`reference: missing parameter ${name}`);
  if (p.length !== count) throw new Error(`reference: parameter ${name} has ${p.length} elements, expected ${count}`);
  return p;
}

// [A, B, C] row-major -> [B, A, C] row-major (swaps the two leading axes)
function swapLeadingAxes(src: Float64Array, A: number, B: number, C: number): Float64Array {
  const dst = new Float64Array(A * B * C);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        dst[(b * A + a) * C + c] = src[(a * B + b) * C + c];
      }
    }
  }
  return dst;
}

interface DirectionResult {
  out: Float64Array; // [T, B, Hout] time-major, zeros at padded steps
  hN: Float64Array; // [B, Hout]
  cN: Float64Array; // [B, H] (all zeros unless LSTM)
}

// one direction of one layer: xs [T, B, Iin] time-major, h0 [B, Hout], c0 [B, H] -> DirectionResult
function runDirection(
  cfg: RefConfig,
  params: Map<string, Float64Array>,
  layer: number,
  reverse: boolean,
  xs: Float64Array,
  Iin: number,
  T: number,
  B: number,
  h0: Float64Array,
  c0: Float64Array,
  lengths: number[],
): DirectionResult {
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize > 0 ? cfg.projSize : H;
  const G = gateCount(cfg.mode);
  const sfx = `_l${layer}${reverse ? '_reverse' : ''}`;

  const Wih = param(params, `weight_ih${sfx}`, G * H * Iin); // [G*H, Iin]
  const Whh = param(params, `weight_hh${sfx}`, G * H * Hout); // [G*H, Hout]
  const bih = cfg.bias ? param(params, `bias_ih${sfx}`, G * H) : new Float64Array(G * H); // [G*H]
  const bhh = cfg.bias ? param(params, `bias_hh${sfx}`, G * H) : new Float64Array(G * H); // [G*H]
  const useProj = cfg.mode === 'LSTM' && cfg.projSize > 0;
  const Whr = useProj ? param(params, `weight_hr${sfx}`, Hout * H) : null; // [Hout, H]
  const usePeep = cfg.mode === 'LSTM' && cfg.peepholes;
  const P = usePeep ? param(params, `weight_peephole${sfx}`, 3 * H) : null; // [3, H] rows i, f, o

  const out = new Float64Array(T * B * Hout);
  const hN = new Float64Array(B * Hout);
  const cN = new Float64Array(B * H);

  // per-step scratch, fully overwritten at every step
  const gi = new Float64Array(G * H); // W x + b_ih
  const gh = new Float64Array(G * H); // R h + b_hh
  const hNew = new Float64Array(Hout);
  const cNew = new Float64Array(H);
  const hCell = new Float64Array(H); // LSTM: o ⊙ tanh(c') before projection
  const r = new Float64Array(H); // GRU reset gate
  const z = new Float64Array(H); // GRU update gate

  for (let b = 0; b < B; b++) {
    const len = lengths[b];
    const h = new Float64Array(Hout); // current hidden state
    const c = new Float64Array(H); // current cell state (LSTM)
    for (let q = 0; q < Hout; q++) h[q] = h0[b * Hout + q];
    for (let j = 0; j < H; j++) c[j] = c0[b * H + j];

    for (let s = 0; s < len; s++) {
      const t = reverse ? len - 1 - s : s;

      // input part and recurrent part of every gate pre-activation, kept separate (GRU needs them apart)
      for (let row = 0; row < G * H; row++) {
        let accI = bih[row];
        for (let i = 0; i < Iin; i++) accI += Wih[row * Iin + i] * xs[(t * B + b) * Iin + i];
        gi[row] = accI;
        let accH = bhh[row];
        for (let k = 0; k < Hout; k++) accH += Whh[row * Hout + k] * h[k];
        gh[row] = accH;
      }

      if (cfg.mode === 'LSTM') {
        for (let j = 0; j < H; j++) {
          const iGate = sigmoid(gi[0 * H + j] + gh[0 * H + j] + (P ? P[0 * H + j] * c[j] : 0));
          const fGate = sigmoid(gi[1 * H + j] + gh[1 * H + j] + (P ? P[1 * H + j] * c[j] : 0));
          const gGate = Math.tanh(gi[2 * H + j] + gh[2 * H + j]);
          cNew[j] = fGate * c[j] + iGate * gGate;
          const oGate = sigmoid(gi[3 * H + j] + gh[3 * H + j] + (P ? P[2 * H + j] * cNew[j] : 0));
          hCell[j] = oGate * Math.tanh(cNew[j]);
        }
        if (Whr) {
          for (let q = 0; q < Hout; q++) {
            let acc = 0;
            for (let j = 0; j < H; j++) acc += Whr[q * H + j] * hCell[j];
            hNew[q] = acc;
          }
        } else {
          for (let j = 0; j < H; j++) hNew[j] = hCell[j];
        }
        for (let j = 0; j < H; j++) c[j] = cNew[j];
      } else if (cfg.mode === 'GRU') {
        for (let j = 0; j < H; j++) {
          r[j] = sigmoid(gi[0 * H + j] + gh[0 * H + j]);
          z[j] = sigmoid(gi[1 * H + j] + gh[1 * H + j]);
        }
        for (let j = 0; j < H; j++) {
          let nPre: number;
          if (cfg.linearBeforeReset) {
            // n = tanh(Wn x + bn + r ⊙ (Rn h + rn))
            nPre = gi[2 * H + j] + r[j] * gh[2 * H + j];
          } else {
            // n = tanh(Wn x + bn + Rn (r ⊙ h) + rn)
            let acc = bhh[2 * H + j];
            for (let k = 0; k < Hout; k++) acc += Whh[(2 * H + j) * Hout + k] * (r[k] * h[k]);
            nPre = gi[2 * H + j] + acc;
          }
          const n = Math.tanh(nPre);
          hNew[j] = (1 - z[j]) * n + z[j] * h[j];
        }
      } else {
        for (let j = 0; j < H; j++) {
          const pre = gi[j] + gh[j];
          hNew[j] = cfg.mode === 'RNN_TANH' ? Math.tanh(pre) : Math.max(0, pre);
        }
      }

      for (let q = 0; q < Hout; q++) {
        h[q] = hNew[q];
        out[(t * B + b) * Hout + q] = hNew[q];
      }
    }

    for (let q = 0; q < Hout; q++) hN[b * Hout + q] = h[q];
    for (let j = 0; j < H; j++) cN[b * H + j] = c[j];
  }
  return { out, hN, cN };
}

// full multi-layer, optionally bidirectional forward: input [T,B,I] (or [B,T,I]) -> output, hN [L*D,B,Hout], cN [L*D,B,H]
export function refForward(cfg: RefConfig, params: Map<string, Float64Array>, x: RefInputs): RefOutputs {
  const { T, B } = x;
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize > 0 ? cfg.projSize : H;
  const D = cfg.bidirectional ? 2 : 1;
  const L = cfg.numLayers;
  const isLSTM = cfg.mode === 'LSTM';

  if (x.input.length !== T * B * cfg.inputSize) {
    throw new Error(`reference: input has ${x.input.length} elements, expected ${T * B * cfg.inputSize}`);
  }
  if (x.h0 && x.h0.length !== L * D * B * Hout) throw new Error('reference: h0 has the wrong size');
  if (x.c0 && x.c0.length !== L * D * B * H) throw new Error('reference: c0 has the wrong size');
  if (x.c0 && !isLSTM) throw new Error('reference: c0 given to a non-LSTM cell');

  const lengths: number[] = [];
  for (let b = 0; b < B; b++) {
    const len = x.lengths ? Number(x.lengths[b]) : T;
    if (!Number.isInteger(len) || len < 0 || len > T) throw new Error(`reference: lengths[${b}] = ${len} not in 0..${T}`);
    lengths.push(len);
  }
  if (x.lengths && x.lengths.length !== B) throw new Error('reference: lengths has the wrong count');

  const h0All = x.h0 ?? new Float64Array(L * D * B * Hout);
  const c0All = x.c0 ?? new Float64Array(L * D * B * H);
  const hN = new Float64Array(L * D * B * Hout);
  const cN = new Float64Array(L * D * B * H);

  // time-major working copy of the input: [T, B, I]
  let layerInput = cfg.batchFirst ? swapLeadingAxes(x.input, B, T, cfg.inputSize) : Float64Array.from(x.input);
  let Iin = cfg.inputSize;

  for (let k = 0; k < L; k++) {
    const layerOut = new Float64Array(T * B * D * Hout); // [T, B, D*Hout]
    for (let d = 0; d < D; d++) {
      const sd = k * D + d; // state slot in h0/hN/c0/cN
      const h0 = h0All.subarray(sd * B * Hout, (sd + 1) * B * Hout);
      const c0 = c0All.subarray(sd * B * H, (sd + 1) * B * H);
      const res = runDirection(cfg, params, k, d === 1, layerInput, Iin, T, B, h0, c0, lengths);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          for (let q = 0; q < Hout; q++) {
            layerOut[(t * B + b) * D * Hout + d * Hout + q] = res.out[(t * B + b) * Hout + q];
          }
        }
      }
      hN.set(res.hN, sd * B * Hout);
      cN.set(res.cN, sd * B * H);
    }

    if (k < L - 1 && x.dropoutMasks && x.dropoutMasks[k]) {
      const mask = x.dropoutMasks[k];
      if (mask.length !== layerOut.length) throw new Error(`reference: dropoutMasks[${k}] has the wrong size`);
      for (let e = 0; e < layerOut.length; e++) layerOut[e] *= mask[e];
    }

    layerInput = layerOut;
    Iin = D * Hout;
  }

  const output = cfg.batchFirst ? swapLeadingAxes(layerInput, T, B, D * Hout) : layerInput;
  return isLSTM ? { output, hN, cN } : { output, hN };
}

// sum over elementwise products: (a [n], b [n]) -> scalar
function dot(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  if (a.length !== b.length) throw new Error(`reference: ${what} has ${b.length} elements, expected ${a.length}`);
  let s = 0;
  for (let e = 0; e < a.length; e++) s += a[e] * b[e];
  return s;
}

// L = Σ output⊙dOutput + Σ hN⊙dhN + Σ cN⊙dcN (absent terms count 0): RefOutputs -> scalar
export function refLoss(
  out: RefOutputs,
  dOutput?: ArrayLike<number>,
  dhN?: ArrayLike<number>,
  dcN?: ArrayLike<number>,
): number {
  let s = 0;
  if (dOutput) s += dot(out.output, dOutput, 'dOutput');
  if (dhN) s += dot(out.hN, dhN, 'dhN');
  if (dcN && out.cN) s += dot(out.cN, dcN, 'dcN');
  return s;
}
