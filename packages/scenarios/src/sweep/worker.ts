/**
 * A sweep worker thread: runs the tasks the pool posts, one at a time, and posts back
 * each outcome (pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { executeRun, type RunTask } from './execute.ts';

const port = parentPort;
if (port === null) throw new Error('sweep worker: not in a worker thread');
port.on('message', (task: RunTask) => {
  port.postMessage(executeRun(task));
});
port.postMessage('ready');
