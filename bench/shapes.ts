// The benchmark shapes of SPEC §7 and their FLOP counts.

export type Mode = 'LSTM' | 'GRU' | 'RNN';

export interface Shape {
  id: string;
  mode: Mode;
  T: number;
  B: number;
  I: number;
  H: number;
  bidirectional: boolean;
  why: string;
}

export const SHAPES: Shape[] = [
  { id: 'S1', mode: 'LSTM', T: 50, B: 1, I: 512, H: 512, bidirectional: false, why: 'batch-1 latency' },
  { id: 'S2', mode: 'LSTM', T: 50, B: 16, I: 512, H: 512, bidirectional: false, why: 'service batch' },
  { id: 'S3', mode: 'LSTM', T: 50, B: 64, I: 512, H: 512, bidirectional: false, why: 'training batch' },
  { id: 'S4', mode: 'LSTM', T: 100, B: 32, I: 256, H: 256, bidirectional: false, why: 'medium' },
  { id: 'S5', mode: 'GRU', T: 50, B: 16, I: 512, H: 512, bidirectional: false, why: 'GRU service batch' },
  { id: 'S6', mode: 'GRU', T: 50, B: 64, I: 512, H: 512, bidirectional: false, why: 'GRU training batch' },
  { id: 'S7', mode: 'LSTM', T: 25, B: 128, I: 1024, H: 1024, bidirectional: false, why: 'compute-bound' },
  { id: 'S8', mode: 'LSTM', T: 63, B: 1, I: 24, H: 32, bidirectional: true, why: 'tiny, overhead-bound' },
  { id: 'S9', mode: 'LSTM', T: 1, B: 1, I: 256, H: 256, bidirectional: false, why: 'one streaming step' },
  { id: 'S10', mode: 'RNN', T: 50, B: 32, I: 256, H: 256, bidirectional: false, why: 'vanilla' },
  // Not in SPEC §7: the shape issue 12 sets its WASM-against-TF.js targets on, for LSTM and GRU.
  { id: 'W1', mode: 'LSTM', T: 50, B: 16, I: 256, H: 256, bidirectional: false, why: 'issue 12: wasm against TF.js' },
  { id: 'W2', mode: 'GRU', T: 50, B: 16, I: 256, H: 256, bidirectional: false, why: 'issue 12: wasm against TF.js' },
];

export function gateCount(mode: Mode): number {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

/** SPEC §7: D·2·T·B·G·H·(I+H) for a forward; forward+backward counts three times that. */
export function forwardFlops(s: Shape): number {
  const D = s.bidirectional ? 2 : 1;
  return D * 2 * s.T * s.B * gateCount(s.mode) * s.H * (s.I + s.H);
}

export function describeShape(s: Shape): string {
  return `${s.mode} T=${s.T} B=${s.B} I=${s.I} H=${s.H}${s.bidirectional ? ' bi' : ''}`;
}
