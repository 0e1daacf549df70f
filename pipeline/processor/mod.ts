/**
 * The processor runtime's public entry: the contract (`types.ts`), the broker-backed host, and the in-memory
 * test driver for processor unit tests.
 */
export * from "./types.ts";
export { createProcessorHost, type HostDeps, type HostOptions, type ProcessorHost } from "./host.ts";
export {
  createTestDriver,
  FakeClock,
  type ForwardedRecord,
  type PipeOptions,
  type TestDriver,
  type TestDriverOptions,
} from "./driver.ts";
export { MemoryStore, SRC_HEADER } from "./store.ts";
