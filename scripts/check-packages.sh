#!/usr/bin/env bash
# Checks every package as it would be published (issue 14): builds them, packs each with
# `pnpm pack` (which applies publishConfig and turns workspace:^ into ^<version>), then
# for each tarball:
#   - its package.json names no source (no `isosim-source` condition, no ./src, no
#     workspace: range) and it holds no src/, tests or build info;
#   - publint (--strict: warnings fail too) and attw (ESM-only profile) pass;
# and finally installs the tarballs into an empty project (no workspace, no tsx) and
# runs the `isosim` bin there on plain Node: --version, and a short run of a built-in
# scenario whose log hash must equal the one the workspace's sources give.
#
# Usage: scripts/check-packages.sh [--no-install]   (--no-install skips the last step)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

install=1
if [[ "${1:-}" == "--no-install" ]]; then install=0; fi

fail() {
  echo "check-packages: $*" >&2
  exit 1
}

pnpm build

tmp=$(mktemp -d "${TMPDIR:-/tmp}/isosim-packages-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for dir in packages/*/; do
  (cd "$dir" && pnpm pack --pack-destination "$tmp" >/dev/null)
done

for tgz in "$tmp"/*.tgz; do
  name=$(basename "$tgz")
  echo "== $name"
  manifest=$(tar -xzOf "$tgz" package/package.json)
  for bad in 'isosim-source' '"./src' 'workspace:'; do
    if grep -qF -- "$bad" <<<"$manifest"; then fail "$name: package.json has $bad"; fi
  done
  if tar -tzf "$tgz" | grep -E '^package/src/|\.test\.|\.testkit\.|tsbuildinfo'; then
    fail "$name: ships sources, tests or build info (above)"
  fi
  pnpm exec publint run --strict "$tgz"
  pnpm exec attw --profile esm-only "$tgz"
done

if [[ "$install" == 1 ]]; then
  echo "== installing the tarballs into an empty project"
  app="$tmp/app"
  mkdir -p "$app"
  node - "$tmp" "$app" <<'EOF'
const { readdirSync, writeFileSync } = require('node:fs');
const [dir, app] = process.argv.slice(2);
const tarballs = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const name = `@isosim/${f.replace(/^isosim-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')}`;
  tarballs[name] = `file:${dir}/${f}`;
}
writeFileSync(
  `${app}/package.json`,
  JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: tarballs, pnpm: { overrides: tarballs } }, null, 2),
);
EOF
  (cd "$app" && pnpm install --prefer-offline --config.confirmModulesPurge=false >/dev/null)
  if ls "$app/node_modules/.pnpm" | grep -q '^tsx@'; then fail 'tsx is installed with the packages'; fi
  (cd "$app" && node --input-type=module -e "
    for (const e of ['@isosim/core', '@isosim/core/node', '@isosim/actors', '@isosim/actors/machines', '@isosim/replay', '@isosim/scenarios', '@isosim/cli']) await import(e);
  ") || fail 'an entry point does not import from the installed packages'
  bin="$app/node_modules/.bin/isosim"
  "$bin" --version
  "$bin" run table1-sedf --duration 1 --out "$tmp/run-dist" >/dev/null
  (cd "$root" && pnpm -s isosim run table1-sedf --duration 1 --out "$tmp/run-src" >/dev/null)
  cmp -s "$tmp/run-dist/events.isolog" "$tmp/run-src/events.isolog" ||
    fail "the installed packages' log differs from the sources' ($tmp/run-dist, $tmp/run-src)"
  digest=$("$bin" log info "$tmp/run-dist/events.isolog" | sed -n 's/^digest *//p')
  echo "installed packages: table1-sedf for 1 s, log hash $digest, byte for byte the sources' log"
fi
echo "check-packages: every package passes"
