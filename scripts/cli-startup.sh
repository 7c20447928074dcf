#!/usr/bin/env bash
# Start-up time of the built `isosim` command: the median wall time of N runs (default 5)
# of `node packages/cli/bin/isosim.js ARGS` (default --version), after `pnpm build`.
# Usage: scripts/cli-startup.sh [N] [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
shift || true
args=("$@")
if [[ ${#args[@]} -eq 0 ]]; then args=(--version); fi
if [[ ! -f packages/cli/dist/cli.js ]]; then
  echo 'cli-startup: no packages/cli/dist/cli.js: run pnpm build first' >&2
  exit 1
fi
node packages/cli/bin/isosim.js "${args[@]}" >/dev/null # warm the file cache
for _ in $(seq "$n"); do
  start=$(date +%s%N)
  node packages/cli/bin/isosim.js "${args[@]}" >/dev/null
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
done | sort -n | awk -v args="${args[*]}" '{ t[NR] = $1 } END {
  printf "isosim %s: median %d ms of %d runs (min %d, max %d)\n", args, t[int((NR + 1) / 2)], NR, t[1], t[NR]
}'
