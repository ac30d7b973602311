// Per-tensor CRC-32s kept in a safetensors file's metadata, so that a checkpoint damaged on disk
// (one flipped bit is enough) is refused on load instead of computing with wrong weights. Files
// from elsewhere (PyTorch's save_file) carry none and load as they always did.
import { crc32 } from 'zlib';

/** The metadata key: a JSON object of tensor name → CRC-32 of its bytes as stored, 8 hex digits. */
export const CHECKSUMS_KEY = 'cellscan.crc32';

function hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** The metadata value recording each tensor's stored bytes. */
export function recordChecksums(tensors: Iterable<readonly [string, Uint8Array]>): string {
  const sums: Record<string, string> = {};
  for (const [name, bytes] of tensors) Object.defineProperty(sums, name, { value: hex(bytes), enumerable: true });
  return JSON.stringify(sums);
}

/**
 * Checks every tensor against the recorded value (a RangeError names the first that differs);
 * every tensor must have one and every recorded one must be in the file.
 */
export function verifyChecksums(where: string, recorded: string, tensors: ReadonlyMap<string, Uint8Array>): void {
  const damaged = (what: string) =>
    new RangeError(`${where}: ${what}: the file is damaged or was changed after it was written`);
  let sums: unknown;
  try {
    sums = JSON.parse(recorded);
  } catch {
    throw damaged(`its "${CHECKSUMS_KEY}" metadata is not JSON`);
  }
  if (typeof sums !== 'object' || sums === null || Array.isArray(sums)) {
    throw damaged(`its "${CHECKSUMS_KEY}" metadata is not an object of checksums`);
  }
  const expected = new Map(Object.entries(sums));
  for (const [name, bytes] of tensors) {
    const want = expected.get(name);
    if (want === undefined) throw damaged(`tensor ${JSON.stringify(name)} has no recorded checksum`);
    const got = hex(bytes);
    if (got !== want) {
      throw damaged(`tensor ${JSON.stringify(name)} has CRC-32 ${got}, the file recorded ${JSON.stringify(want)}`);
    }
  }
  for (const name of expected.keys()) {
    if (!tensors.has(name)) throw damaged(`tensor ${JSON.stringify(name)} has a recorded checksum but is not in the file`);
  }
}
