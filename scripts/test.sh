#!/usr/bin/env bash
# The whole test suite: static checks, unit tests, then interop tests against real software
# (installed by scripts/test-deps.sh). SIPTRUST_SKIP_INTEROP=1 skips the interop part explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

step "typecheck"
npx tsc -p tsconfig.json --noEmit
step "build (library with declarations, into a scratch folder)"
build_dir=$(mktemp -d)
npx tsc -p tsconfig.build.json --outDir "$build_dir"
test -f "$build_dir/src/index.d.ts"
rm -rf "$build_dir"
step "lint"
npx eslint .
npx prettier --check .
step "layering (dependency-cruiser)"
npx depcruise src --config .dependency-cruiser.cjs
step "unit tests"
node scripts/run-tests.mjs test/unit

if [ "${SIPTRUST_SKIP_INTEROP:-}" = "1" ]; then
  step "interop tests SKIPPED (SIPTRUST_SKIP_INTEROP=1)"
  exit 0
fi
step "interop dependencies"
bash scripts/test-deps.sh
if compgen -G "test/interop/**/*.test.ts" >/dev/null || find test/interop -name '*.test.ts' | grep -q .; then
  step "interop tests"
  node scripts/run-tests.mjs test/interop
fi
