#!/usr/bin/env bash
# The test command: builds the solution and runs every test, then prints one summary line
# ("tests: N passed, N failed, N skipped"). Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
dotnet test LabelAssignment.slnx -c Release --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || status=$?
total=0; passed=0; failed=0
for trx in "$results"/*.trx "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  total=$((total + $(get total))); passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
done
echo "tests: $passed passed, $failed failed, $((total - passed - failed)) skipped"
if [ "$total" -eq 0 ] && [ "$status" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
exit "$status"
