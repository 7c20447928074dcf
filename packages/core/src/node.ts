/**
 * The Node-only parts of the core: log files on disk. Everything else in
 * `@isosim/core` runs anywhere (a browser included); these need `node:fs`.
 *
 * @module @isosim/core/node
 */
export { FileSink } from './log/fileSink.ts';
export { openLogCursor, scanLog } from './log/fileSource.ts';
export { exportJsonl } from './log/jsonl.ts';
export type { ThreadedLogOptions } from './log/threadedLog.ts';
export { ThreadedLogWriter } from './log/threadedLog.ts';
