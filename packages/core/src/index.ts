/**
 * The deterministic kernel of isosim: the integer-nanosecond event queue (`Kernel`,
 * `Priority`), the seeded PRNG (`Prng`), Xen event channels (`EventChannelSet`) and
 * shared rings (`createRing`), the log writer with its in-memory sinks, and the log
 * reader over bytes (`scanBytes`, `scanSource`; `LogCursor` to read by pulling). No
 * Node built-ins: it bundles for a browser. Log files on disk are `@isosim/core/node`.
 *
 * @module @isosim/core
 */
export { InvariantError, IsosimError, invariant } from './errors.ts';
export type { EventChannelSetOptions, EventChannelStats, Upcall } from './eventChannel.ts';
export { EventChannelSet, MAX_PORTS, NotifyOutcome } from './eventChannel.ts';
export { EventQueue, PRIORITY_MAX, packKey } from './eventQueue.ts';
export type { Delivery, Handler, KernelOptions } from './kernel.ts';
export { Kernel, Priority } from './kernel.ts';
export type { LogHeader } from './log/format.ts';
export { DEFAULT_BLOCK_BYTES, LOG_SCHEMA, logHeader, MAX_FIELDS } from './log/format.ts';
export { blockTrailerWords, digestHex, fmix, RunningHash } from './log/hash.ts';
export { LogCursor } from './log/logCursor.ts';
export type {
  ByteSource,
  LogDamage,
  LogRecord,
  ResumePoint,
  ScanOptions,
  ScanResult,
} from './log/logReader.ts';
export { LogDamageError, LogDictionary, scanBytes, scanSource } from './log/logReader.ts';
export type { EventLog, LogSummary, LogWriterOptions } from './log/logWriter.ts';
export { LogWriter, RecordCheck } from './log/logWriter.ts';
export type { LogSink } from './log/sink.ts';
export { MemorySink, NullSink } from './log/sink.ts';
export { recordToJson } from './log/toJson.ts';
export { Prng, validateSeed } from './prng.ts';
export type { EventType } from './registry.ts';
export { Registry } from './registry.ts';
export { BackRing, createRing, FrontRing, SharedRing } from './ring.ts';
export { isTimeNs, ms, NS_PER_MS, NS_PER_S, NS_PER_US, seconds, toSeconds, us } from './time.ts';
