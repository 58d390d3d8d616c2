#!/usr/bin/env bash
# The project's test command (README line 2 runs it through `npm test`):
# type check (server and web app), layer-boundary check, then every test project
# (unit, interop against real DCMTK/Orthanc peers, e2e in Debian chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== typecheck"; npx tsc -p tsconfig.json --noEmit; npx tsc -p ui/tsconfig.json --noEmit
echo "== layer boundaries"; npx depcruise src --config .dependency-cruiser.cjs
echo "== tests"; npx vitest run "$@"
