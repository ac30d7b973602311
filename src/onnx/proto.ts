// The few protobuf messages an exported model is made of (onnx-proto's protobufjs classes), built
// from plain arrays: initializers, typed graph values, attributes and nodes.
import { onnx } from 'onnx-proto';

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT32 = onnx.TensorProto.DataType.INT32;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const BOOL = onnx.TensorProto.DataType.BOOL;

const { INT, INTS, STRING, STRINGS } = onnx.AttributeProto.AttributeType;

// raw_data is little-endian whatever the host: a byte copy where the host is too (every x86 and
// ARM Node), a DataView elsewhere (s390x).
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianFloats(parts: readonly Float32Array[], total: number): Uint8Array {
  const raw = new Uint8Array(total * 4);
  let at = 0;
  if (hostIsLittleEndian) {
    for (const p of parts) {
      raw.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
  } else {
    const view = new DataView(raw.buffer);
    for (const p of parts) for (let i = 0; i < p.length; i++, at += 4) view.setFloat32(at, p[i], true);
  }
  return raw;
}

/** A float32 initializer whose values are `parts` one after the other (they must fill `dims`). */
export function floatInitializer(name: string, dims: readonly number[], parts: readonly Float32Array[]): onnx.ITensorProto {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const expected = dims.reduce((a, b) => a * b, 1);
  // Only this package's own code calls this: a disagreement is a bug here, not a user's mistake.
  if (total !== expected) throw new Error(`initializer ${name}: ${total} values for dims [${dims.join(', ')}]`);
  return { name, dims: [...dims], dataType: FLOAT, rawData: littleEndianFloats(parts, total) };
}

/** A 1-D int64 initializer (Reshape's shapes, Gather's indices). */
export function int64Initializer(name: string, values: readonly number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: [...values] };
}

/** A graph input or output: element type and dims, numbers fixed, strings symbolic. */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[], docString?: string): onnx.IValueInfoProto {
  return {
    name,
    docString,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export const attribute = {
  int: (name: string, i: number): onnx.IAttributeProto => ({ name, type: INT, i }),
  ints: (name: string, ints: readonly number[]): onnx.IAttributeProto => ({ name, type: INTS, ints: [...ints] }),
  string: (name: string, s: string): onnx.IAttributeProto => ({ name, type: STRING, s: utf8(s) }),
  strings: (name: string, s: readonly string[]): onnx.IAttributeProto => ({ name, type: STRINGS, strings: s.map(utf8) }),
};

/** A node of the default (ai.onnx) domain; an empty input name is an omitted optional input. */
export function node(opType: string, name: string, input: readonly string[], output: readonly string[], attrs: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, name, domain: '', input: [...input], output: [...output], attribute: attrs };
}
