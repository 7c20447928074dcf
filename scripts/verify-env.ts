/**
 * Checks the environment of a sharded `pnpm verify:deep` before vitest starts, so that a
 * bad `ISOSIM_VERIFY_SHARD` is one line (and exit status 2) rather than an import error
 * in every test file: `tsx --conditions=isosim-source scripts/verify-env.ts`
 * (docs/verification.md, "Sharding the deep run").
 */
import { existsSync, statSync } from 'node:fs';
import { verifyShardFromEnv } from '../test/verify/shardSpec.ts';

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

let shard: ReturnType<typeof verifyShardFromEnv>;
try {
  shard = verifyShardFromEnv();
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
const dir = process.env.ISOSIM_VERIFY_REPORT_DIR;
if (dir && existsSync(dir) && !statSync(dir).isDirectory())
  fail(
    `pnpm verify:deep: ISOSIM_VERIFY_REPORT_DIR: ${dir} is a file; give a directory (it is made if missing)`,
  );
if (shard !== undefined)
  process.stderr.write(
    `pnpm verify:deep: shard ${shard.index}/${shard.count} (0-based) of every property${dir ? `; report: ${dir}/verify-shard-${shard.index}-of-${shard.count}.json` : ''}\n`,
  );
