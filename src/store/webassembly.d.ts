/**
 * The part of Node's `WebAssembly` global that pglite.ts uses. TypeScript declares it only in its
 * DOM lib, which this project does not load (it is a server).
 */
declare namespace WebAssembly {
  /** A compiled module: opaque here, and it can be posted to a worker thread without compiling again. */
  interface Module {
    readonly __compiledWebAssembly?: never;
  }
  function compile(bytes: Uint8Array): Promise<Module>;
}
