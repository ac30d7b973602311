// Request bodies to tensors and results to answers, with the checks that make a bad request a 4xx
// naming what was wrong, before it reaches the layer.
import { Tensor } from 'cellscan';
import { HttpError } from './http-error';
import type { ModelInfo } from './model';
import { float32FromBytes } from './body';

export interface Limits {
  /** Most time steps in one request (422 past it). */
  maxSteps: number;
}

export interface SequenceRequest {
  input: Tensor; // [T, I]
  h0?: Tensor; // [L*D, Hout]
  c0?: Tensor; // [L*D, H]
}

export function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body must be JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, `body must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/** A [rows, cols] matrix from nested JSON arrays of numbers; rows undefined = any count. */
function matrix(field: string, v: unknown, rows: number | undefined, cols: number, colsName: string): Float32Array {
  if (!Array.isArray(v)) throw new HttpError(400, `${field} must be an array of rows of ${cols} numbers, got ${typeof v}`);
  if (rows !== undefined && v.length !== rows) throw new HttpError(400, `${field} must have ${rows} rows, got ${v.length}`);
  const out = new Float32Array(v.length * cols);
  for (let r = 0; r < v.length; r++) {
    const row: unknown = v[r];
    if (!Array.isArray(row) || row.length !== cols) {
      throw new HttpError(400, `${field}[${r}] must hold ${colsName} = ${cols} numbers, got ${Array.isArray(row) ? row.length : typeof row}`);
    }
    for (let c = 0; c < cols; c++) {
      const x: unknown = row[c];
      if (typeof x !== 'number') throw new HttpError(400, `${field}[${r}][${c}] must be a number, got ${JSON.stringify(x)}`);
      out[r * cols + c] = x;
    }
  }
  return out;
}

function checkSteps(T: number, limits: Limits): void {
  if (T < 1) throw new HttpError(400, 'input must hold at least one time step');
  if (T > limits.maxSteps) throw new HttpError(422, `input must hold at most ${limits.maxSteps} time steps, got ${T}`);
}

/**
 * `{"input": [[I numbers] x T], "h0"?: [[Hout] x L*D], "c0"?: [[H] x L*D]}`. With `oneStep`, a
 * bare vector of I numbers is read as a sequence of one step.
 */
export function sequenceFromJson(o: Record<string, unknown>, model: ModelInfo, limits: Limits, withState: boolean, oneStep = false): SequenceRequest {
  let input = o.input;
  if (input === undefined) throw new HttpError(400, 'body must have an "input" field: [[inputSize numbers] per time step]');
  if (oneStep && Array.isArray(input) && input.length > 0 && typeof input[0] === 'number') input = [input];
  if (Array.isArray(input)) checkSteps(input.length, limits);
  const x = matrix('input', input, undefined, model.inputSize, 'inputSize');
  const out: SequenceRequest = { input: new Tensor(x, [x.length / model.inputSize, model.inputSize]) };
  if (!withState) {
    for (const key of ['h0', 'c0']) {
      if (o[key] !== undefined) throw new HttpError(400, `${key} is not taken here: the session holds the state (reset it with "reset": true)`);
    }
    return out;
  }
  if (o.h0 !== undefined) out.h0 = new Tensor(matrix('h0', o.h0, model.states, model.stateSize, 'Hout'), [model.states, model.stateSize]);
  if (o.c0 !== undefined) {
    if (model.cell !== 'lstm') throw new HttpError(400, `c0 is only for an LSTM, this model is a ${model.cell.toUpperCase()}`);
    out.c0 = new Tensor(matrix('c0', o.c0, model.states, model.hiddenSize, 'hiddenSize'), [model.states, model.hiddenSize]);
  }
  return out;
}

/** A raw body: little-endian float32 [T, I], T from its length. */
export function sequenceFromRaw(body: Buffer, model: ModelInfo, limits: Limits): SequenceRequest {
  const rowBytes = 4 * model.inputSize;
  if (body.length % rowBytes !== 0) {
    throw new HttpError(400, `raw body must be float32 [T, inputSize = ${model.inputSize}]: a multiple of ${rowBytes} bytes, got ${body.length}`);
  }
  const T = body.length / rowBytes;
  checkSteps(T, limits);
  return { input: new Tensor(float32FromBytes(body), [T, model.inputSize]) };
}

/**
 * Nested arrays of a 2-D tensor for JSON. Nine significant digits name every float32 exactly (it
 * parses back to the same float32) and make the answer about a third shorter than the widened
 * double's seventeen, for the same time to print.
 */
export function rows(t: Tensor): number[][] {
  const [R, C] = t.shape;
  const out: number[][] = new Array(R);
  for (let r = 0; r < R; r++) {
    const row = new Array<number>(C);
    for (let c = 0; c < C; c++) row[c] = Number(t.data[r * C + c].toPrecision(9));
    out[r] = row;
  }
  return out;
}
