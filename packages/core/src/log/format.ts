/**
 * Constants of the binary log format, schema 2. `docs/log-format.md` is the prose
 * description; this file and it must agree (test/logFormat.test.ts checks the doc
 * quotes these numbers).
 *
 * Schema 2 (this one) differs from schema 1 only in what the digests cover: the magic
 * and the header are hashed before the first block, the header is followed by its own
 * trailer, and each block trailer also covers the block header's counts. Every byte of
 * a schema 2 log is either hashed or checked against a fixed value. A reader refuses a
 * schema 1 log with a clear error.
 */
export const LOG_SCHEMA = 2;

/** "ISOSIMLG" in ASCII: the file's first 8 bytes. */
export const FILE_MAGIC = Uint8Array.from([0x49, 0x53, 0x4f, 0x53, 0x49, 0x4d, 0x4c, 0x47]);

/** Little-endian u32 at the start of each data block: "IBLK". */
export const BLOCK_MAGIC = 0x4b4c4249;
/** Little-endian u32 at the start of the end block: "IEND". */
export const END_MAGIC = 0x444e4549;

/** magic u32, payload bytes u32, event records u32, definitions u32. */
export const BLOCK_HEADER_BYTES = 16;
/**
 * Running digest after this block (lo u32, hi u32), XORed with the digest of the block
 * header's three counts; also the size of the header's trailer (the running digest
 * after the magic and the header, plain).
 */
export const BLOCK_TRAILER_BYTES = 8;
/** magic u32, reserved u32 (0), total event records f64, digest lo u32, digest hi u32. */
export const END_BLOCK_BYTES = 24;

/** Record tag 0 introduces a definition; any other tag is an event type id. */
export const TAG_DEFINE = 0;
export const DEFINE_TYPE = 0;
export const DEFINE_NAME = 1;

/** Every event type has at most this many payload fields (fixed shape, like trace.h). */
export const MAX_FIELDS = 4;

/** Default payload bytes per block before it is flushed to the sink. */
export const DEFAULT_BLOCK_BYTES = 64 * 1024;

/** The header record: the first thing after the magic, as u32 length + UTF-8 JSON. */
export interface LogHeader {
  readonly format: 'isosim-log';
  readonly schema: number;
  /** The scenario's name, and optionally its full resolved description. */
  readonly scenario: { readonly name: string; readonly spec?: unknown };
  readonly seed: number;
  /** Versions that decide the log's bytes: isosim and the libraries whose code runs in the model. */
  readonly versions: Readonly<Record<string, string>>;
}

/** A header for a new log: `scenario` by name, with its full description if given. */
export function logHeader(
  name: string,
  seed: number,
  options: { spec?: unknown; versions?: Readonly<Record<string, string>> } = {},
): LogHeader {
  const scenario = options.spec === undefined ? { name } : { name, spec: options.spec };
  return { format: 'isosim-log', schema: LOG_SCHEMA, scenario, seed, versions: options.versions ?? {} };
}
