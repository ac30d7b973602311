// Independent float64 reference forward pass of LSTM / GRU / RNN layers (SPEC §3, PyTorch conventions),
// with the variants of SPEC §3a: residual layers, zoneout (evaluation form from probabilities, training
// form from given masks), recurrent dropout and weight dropout (from given masks; this file draws nothing).
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
  residual?: boolean; // layers k ≥ 1 output y_k + u_k (u_k: their input); default false
  zoneout?: { hidden: number; cell: number }; // evaluation-form zoneout probabilities p_h, p_c; default 0
}

export interface RefInputs {
  input: Float64Array; // [T, B, I], or [B, T, I] when batchFirst
  T: number;
  B: number;
  h0?: Float64Array; // [L*D, B, Hout]
  c0?: Float64Array; // [L*D, B, H] (LSTM only)
  lengths?: ArrayLike<number>; // [B], each in 0..T
  dropoutMasks?: Float64Array[]; // masks[k] for k = 0..L-2: [T, B, D*Hout] time-major, already scaled
  // The masks below are indexed by layer direction s = k*D + d (d = 1: reverse); a missing entry means none.
  // zoneout (training form) [s]: hidden [T, B, Hout], cell [T, B, H] (LSTM), indexed by time step t,
  // d = 1 keeps the previous state; a given mask replaces the probability of cfg.zoneout for that state
  zoneoutMasks?: { hidden?: Float64Array; cell?: Float64Array }[];
  recurrentMasks?: Float64Array[]; // [s]: [B, Hout], already scaled; the recurrent products see m ⊙ h_{t−1}
  weightMasks?: Map<string, Float64Array>; // weight_hh_l{k}[_reverse] -> [G*H, Hout]; W_hh ⊙ M is used
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

// everything that varies one layer direction beyond its parameters (SPEC §3a)
interface DirectionVariants {
  zoneoutH: number; // evaluation-form p_h, used when zoneoutHMask is absent
  zoneoutC: number; // evaluation-form p_c (LSTM), used when zoneoutCMask is absent
  zoneoutHMask?: Float64Array; // [T, B, Hout]
  zoneoutCMask?: Float64Array; // [T, B, H]
  recurrentMask?: Float64Array; // [B, Hout]
  weightMask?: Float64Array; // [G*H, Hout]
}

interface DirectionResult {
  out: Float64Array; // [T, B, Hout] time-major, zeros at padded steps
  hN: Float64Array; // [B, Hout]
  cN: Float64Array; // [B, H] (all zeros unless LSTM)
}

// one direction of one layer: xs [T, B, Iin] time-major, h0 [B, Hout], c0 [B, H], variants -> DirectionResult
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
  v: DirectionVariants,
): DirectionResult {
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize > 0 ? cfg.projSize : H;
  const G = gateCount(cfg.mode);
  const sfx = `_l${layer}${reverse ? '_reverse' : ''}`;

  const Wih = param(params, `weight_ih${sfx}`, G * H * Iin); // [G*H, Iin]
  const WhhRaw = param(params, `weight_hh${sfx}`, G * H * Hout); // [G*H, Hout]
  // weight dropout: every use of W_hh in this direction sees W_hh ⊙ M
  const Whh = Float64Array.from(WhhRaw, (w, e) => (v.weightMask ? w * v.weightMask[e] : w)); // [G*H, Hout]
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
  const hRec = new Float64Array(Hout); // m ⊙ h, the state the recurrent products see
  const hNew = new Float64Array(Hout); // h̃: the cell's usual new hidden state
  const cNew = new Float64Array(H); // c̃: the cell's usual new cell state (LSTM)
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

      // recurrent dropout: one mask per batch row, fixed over time
      for (let q = 0; q < Hout; q++) hRec[q] = v.recurrentMask ? v.recurrentMask[b * Hout + q] * h[q] : h[q];

      // input part and recurrent part of every gate pre-activation, kept separate (GRU needs them apart)
      for (let row = 0; row < G * H; row++) {
        let accI = bih[row];
        for (let i = 0; i < Iin; i++) accI += Wih[row * Iin + i] * xs[(t * B + b) * Iin + i];
        gi[row] = accI;
        let accH = bhh[row];
        for (let k = 0; k < Hout; k++) accH += Whh[row * Hout + k] * hRec[k];
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
            // n = tanh(Wn x + bn + Rn (r ⊙ (m ⊙ h)) + rn)
            let acc = bhh[2 * H + j];
            for (let k = 0; k < Hout; k++) acc += Whh[(2 * H + j) * Hout + k] * (r[k] * hRec[k]);
            nPre = gi[2 * H + j] + acc;
          }
          const n = Math.tanh(nPre);
          hNew[j] = (1 - z[j]) * n + z[j] * h[j]; // the true h, not m ⊙ h
        }
      } else {
        for (let j = 0; j < H; j++) {
          const pre = gi[j] + gh[j];
          hNew[j] = cfg.mode === 'RNN_TANH' ? Math.tanh(pre) : Math.max(0, pre);
        }
      }

      // zoneout: keep a fraction d of the previous state, d a mask value or (evaluation) the probability;
      // the output is the zoned-out h (d = 0, zoneout off: exactly the cell's new state)
      if (cfg.mode === 'LSTM') {
        for (let j = 0; j < H; j++) {
          const dc = v.zoneoutCMask ? v.zoneoutCMask[(t * B + b) * H + j] : v.zoneoutC;
          c[j] = dc * c[j] + (1 - dc) * cNew[j];
        }
      }
      for (let q = 0; q < Hout; q++) {
        const dh = v.zoneoutHMask ? v.zoneoutHMask[(t * B + b) * Hout + q] : v.zoneoutH;
        h[q] = dh * h[q] + (1 - dh) * hNew[q];
        out[(t * B + b) * Hout + q] = h[q];
      }
    }

    for (let q = 0; q < Hout; q++) hN[b * Hout + q] = h[q];
    for (let j = 0; j < H; j++) cN[b * H + j] = c[j];
  }
  return { out, hN, cN };
}

// check the variant options and masks of a whole forward once: (cfg, inputs) -> nothing, throws on misuse
function checkVariants(cfg: RefConfig, x: RefInputs): void {
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize > 0 ? cfg.projSize : H;
  const D = cfg.bidirectional ? 2 : 1;
  const S = cfg.numLayers * D;
  const G = gateCount(cfg.mode);
  const { T, B } = x;
  if (cfg.zoneout) {
    for (const [key, p] of Object.entries(cfg.zoneout)) {
      if (key !== 'hidden' && key !== 'cell') throw new Error(`reference: unknown zoneout key ${key}`);
      if (!(p >= 0 && p <= 1)) throw new Error(`reference: zoneout.${key} = ${p} not in [0, 1]`);
    }
    if (cfg.mode !== 'LSTM' && cfg.zoneout.cell !== 0) throw new Error('reference: zoneout.cell given to a non-LSTM cell');
  }
  const checkSize = (what: string, a: Float64Array | undefined, n: number) => {
    if (a && a.length !== n) throw new Error(`reference: ${what} has ${a.length} elements, expected ${n}`);
  };
  if (x.zoneoutMasks) {
    if (x.zoneoutMasks.length !== S) throw new Error(`reference: zoneoutMasks has ${x.zoneoutMasks.length} entries, expected ${S}`);
    x.zoneoutMasks.forEach((m, s) => {
      if (!m) return;
      if (m.cell && cfg.mode !== 'LSTM') throw new Error(`reference: zoneoutMasks[${s}].cell given to a non-LSTM cell`);
      checkSize(`zoneoutMasks[${s}].hidden`, m.hidden, T * B * Hout);
      checkSize(`zoneoutMasks[${s}].cell`, m.cell, T * B * H);
    });
  }
  if (x.recurrentMasks) {
    if (x.recurrentMasks.length !== S) throw new Error(`reference: recurrentMasks has ${x.recurrentMasks.length} entries, expected ${S}`);
    x.recurrentMasks.forEach((m, s) => checkSize(`recurrentMasks[${s}]`, m, B * Hout));
  }
  if (x.weightMasks) {
    for (const [name, m] of x.weightMasks) {
      const found = /^weight_hh_l(\d+)(_reverse)?$/.exec(name);
      if (!found || Number(found[1]) >= cfg.numLayers || (found[2] && D === 1)) {
        throw new Error(`reference: weightMasks key ${name} names no weight_hh of this layer`);
      }
      checkSize(`weightMasks ${name}`, m, G * H * Hout);
    }
  }
}

// the variants one layer direction sees: (cfg, inputs, layer k, direction d) -> DirectionVariants
function directionVariants(cfg: RefConfig, x: RefInputs, k: number, d: number): DirectionVariants {
  const s = k * (cfg.bidirectional ? 2 : 1) + d;
  const zm = x.zoneoutMasks?.[s];
  return {
    zoneoutH: cfg.zoneout?.hidden ?? 0,
    zoneoutC: cfg.mode === 'LSTM' ? (cfg.zoneout?.cell ?? 0) : 0,
    zoneoutHMask: zm?.hidden,
    zoneoutCMask: zm?.cell,
    recurrentMask: x.recurrentMasks?.[s],
    weightMask: x.weightMasks?.get(`weight_hh_l${k}${d === 1 ? '_reverse' : ''}`),
  };
}

// full multi-layer, optionally bidirectional forward with the variants of RefConfig/RefInputs: input [T,B,I] (or [B,T,I]) -> output, hN [L*D,B,Hout], cN [L*D,B,H]
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
  checkVariants(cfg, x);

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
      const v = directionVariants(cfg, x, k, d);
      const res = runDirection(cfg, params, k, d === 1, layerInput, Iin, T, B, h0, c0, lengths, v);
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

    // residual: layers k ≥ 1 add their own input u_k (the previous layer's output after dropout);
    // hN/cN above are the recurrent states, untouched
    if (cfg.residual && k >= 1) {
      for (let e = 0; e < layerOut.length; e++) layerOut[e] += layerInput[e];
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
