// The slice of the WebAssembly JavaScript API this backend uses, typed here because the project
// compiles against ES2022 and @types/node alone, which do not declare it. Read off globalThis, so an
// engine without WebAssembly shows up as `undefined` rather than a ReferenceError.

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Adds `pages` of 64 KiB; throws a RangeError when it cannot. */
  grow(pages: number): number;
}

/** An exported global; the module's constants are i32, so numbers. */
export interface WasmGlobal {
  readonly value: number;
}

export interface WasmJsApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
}

export const webAssembly = (globalThis as { WebAssembly?: WasmJsApi }).WebAssembly;
