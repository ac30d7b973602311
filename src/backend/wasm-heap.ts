// The host side of the WebAssembly linear memory: one WebAssembly.Memory carved into blocks by a
// first-fit free list that merges neighbours when a block comes back. The memory grows only when a
// request finds no free block large enough, and then by what that request lacks, so a workload that
// repeats its calls stops growing after the first. Addresses survive growth; typed-array views over
// the old buffer do not, so every view is made at the moment it is used.
import type { WasmMemory } from './wasm-js-api';

export const WASM_PAGE_BYTES = 65536;
/** What a 32-bit address reaches. */
export const WASM_MAX_BYTES = 65536 * WASM_PAGE_BYTES;
/** Every block starts on a cache line, which also keeps it v128-aligned. */
const ALIGN = 64;

interface FreeBlock {
  start: number;
  size: number;
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

export class WasmHeap {
  /** Sorted by start; no two are adjacent (they would have merged). */
  private readonly freeBlocks: FreeBlock[] = [];
  private readonly used = new Map<number, number>();

  /** base: the first byte the module's static data leaves free. */
  constructor(
    readonly memory: WasmMemory,
    base: number,
  ) {
    const start = alignUp(base);
    const end = memory.buffer.byteLength;
    if (end > start) this.freeBlocks.push({ start, size: end - start });
  }

  /** Bytes the memory spans now (it never shrinks). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes handed out and not yet released. */
  get bytesInUse(): number {
    let n = 0;
    for (const size of this.used.values()) n += size;
    return n;
  }

  /** A block of at least `bytes`; `where` names the caller in the error when memory runs out. */
  allocate(bytes: number, where: string): number {
    const size = alignUp(Math.max(bytes, 1));
    let i = this.freeBlocks.findIndex((b) => b.size >= size);
    if (i < 0) i = this.grow(size, where);
    const block = this.freeBlocks[i];
    const ptr = block.start;
    if (block.size === size) {
      this.freeBlocks.splice(i, 1);
    } else {
      block.start += size;
      block.size -= size;
    }
    this.used.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`WasmHeap.release: ${ptr} is not an allocated block`);
    this.used.delete(ptr);
    let i = 0;
    while (i < this.freeBlocks.length && this.freeBlocks[i].start < ptr) i++;
    const prev = this.freeBlocks[i - 1];
    const next = this.freeBlocks[i];
    if (prev && prev.start + prev.size === ptr) {
      prev.size += size;
      if (next && prev.start + prev.size === next.start) {
        prev.size += next.size;
        this.freeBlocks.splice(i, 1);
      }
    } else if (next && ptr + size === next.start) {
      next.start = ptr;
      next.size += size;
    } else {
      this.freeBlocks.splice(i, 0, { start: ptr, size });
    }
  }

  /** Grows so that a block of `size` fits at the end; returns the index of that free block. */
  private grow(size: number, where: string): number {
    const end = this.byteLength;
    const last = this.freeBlocks[this.freeBlocks.length - 1];
    const tail = last && last.start + last.size === end ? last : undefined;
    const lacking = size - (tail ? tail.size : 0);
    const pages = Math.ceil(lacking / WASM_PAGE_BYTES);
    if (end + pages * WASM_PAGE_BYTES > WASM_MAX_BYTES) {
      throw new RangeError(
        `${where}: cannot allocate ${formatBytes(size)}: WebAssembly memory would outgrow the 4 GiB a 32-bit ` +
          `module can address (${formatBytes(this.bytesInUse)} in use)`,
      );
    }
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new RangeError(`${where}: cannot allocate ${formatBytes(size)}: WebAssembly memory could not grow: ${(e as Error).message}`);
    }
    if (tail) {
      tail.size += pages * WASM_PAGE_BYTES;
    } else {
      this.freeBlocks.push({ start: end, size: pages * WASM_PAGE_BYTES });
    }
    return this.freeBlocks.length - 1;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }
}

/** The blocks of one call: allocated as the call needs them and released together when it ends. */
export class CallFrame {
  private readonly blocks: number[] = [];

  constructor(
    private readonly heap: WasmHeap,
    private readonly where: string,
  ) {}

  allocate(bytes: number): number {
    const ptr = this.heap.allocate(bytes, this.where);
    this.blocks.push(ptr);
    return ptr;
  }

  /** A block holding a copy of `data`; 0 (the kernels' "absent") when there is none. */
  copyIn(data: Float32Array | Int32Array | Uint8Array | undefined): number {
    if (!data) return 0;
    const ptr = this.allocate(data.byteLength);
    this.heap.u8(ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }

  release(): void {
    for (const ptr of this.blocks) this.heap.release(ptr);
    this.blocks.length = 0;
  }
}
