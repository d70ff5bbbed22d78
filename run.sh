#!/usr/bin/env bash
# The main job: build the library, pack it into the local feed the notebooks load it from, then run every
# notebook headless (dotnet repl) and keep the executed copies under reports/.
# Parameters for the notebooks can follow as name=value pairs, e.g. `bash run.sh eps=0.15`.
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore >/dev/null
dotnet build LabelAssignment.slnx -c Release --nologo -v quiet
mkdir -p reports
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then
  echo "no notebooks yet: the library and the benchmark harness are built (see README)."
  exit 0
fi
inputs=()
for kv in "$@"; do inputs+=(--input "$kv"); done
for nb in "${notebooks[@]}"; do
  out="reports/$(basename "$nb")"
  echo "running $nb -> $out"
  dotnet repl --run "$nb" --exit-after-run --output-path "$out" "${inputs[@]}"
done
