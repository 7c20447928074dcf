/**
 * A sweep worker thread: runs the tasks the pool posts, one at a time, and posts back
 * each outcome (pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { executeRun, type RunTask } from './execute.ts';

const port = parentPort;
if (port === null) throw new Error('sweep worker: not in a worker thread');
/**
 * For the tests of a worker dying mid-run: `<run id>:exit` ends the thread and
 * `<run id>:throw` throws out of it when it gets that run, before answering.
 */
const [dieOn, how] = (process.env.ISOSIM_SWEEP_TEST_DIE ?? '').split(':');
port.on('message', (task: RunTask) => {
  if (dieOn !== '' && task.id === dieOn) {
    if (how === 'exit') process.exit(3);
    setImmediate(() => {
      throw new Error(`killed in run ${task.id}`);
    });
    return;
  }
  port.postMessage(executeRun(task));
});
port.postMessage('ready');
