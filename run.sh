#!/usr/bin/env bash
# The main job: build the library, pack it into the local feed the notebooks load it from (eng/pack.sh), run every
# notebook headless with the pinned dotnet-repl (.config/dotnet-tools.json) and keep the executed copies under
# reports/, then render each into a self-contained offline report reports/<name>.html.
# Parameters for the notebooks can follow as name=value pairs, e.g. `bash run.sh eps=0.15`; every notebook gets
# them all, so use names that mean the same in each (a notebook rejects names it does not know).
# Exits non-zero when a notebook has an error cell (the report is still written, with the error shown).
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
version=$(bash eng/pack.sh --no-build)
echo "packed LabelAssignment $version into feed/"
inputs=()
for kv in "$@"; do inputs+=(--input "$kv"); done
renderer=tools/NotebookReport/bin/Release/net10.0/LabelAssignment.NotebookReport.dll
failed=()
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  out="reports/$name.ipynb"
  echo "running $nb -> $out"
  # The kernel's working folder is notebooks/ (as in VS Code), so relative paths in notebooks mean the same.
  rm -f "$out"
  status=0
  (cd notebooks && dotnet repl --run "$(basename "$nb")" --exit-after-run --output-path "../$out" "${inputs[@]}") || status=$?
  if [ ! -f "$out" ]; then echo "dotnet repl wrote no $out (exit $status)" >&2; exit 1; fi
  [ "$status" -eq 0 ] || failed+=("$nb (exit $status)")
  dotnet "$renderer" "$out" "reports/$name.html"
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'notebook with an error cell: %s\n' "${failed[@]}" >&2
  exit 1
fi
