#!/usr/bin/env bash
# The main job: build the library, pack it into the local feed the notebooks load it from (eng/pack.sh), run the
# notebooks headless with the pinned dotnet-repl (.config/dotnet-tools.json) and keep the executed copies under
# reports/, then render each into a self-contained offline report reports/<name>.html.
#
#   bash run.sh                          every notebook, in order, with its defaults
#   bash run.sh 3.nearest eps=0.3        only the notebooks named, with parameters
#   bash run.sh eps=0.3 samples=500      every notebook; each gets only the parameters it declares
#
# A parameter that no chosen notebook declares is an error (a typo must not be silently ignored).
# Exits non-zero when a notebook has an error cell (the report is still written, with the error shown).
set -euo pipefail
cd "$(dirname "$0")"
dotnet tool restore >/dev/null
dotnet build LabelAssignment.slnx -c Release --nologo -v quiet
mkdir -p reports
shopt -s nullglob
all=(notebooks/*.ipynb)
if [ ${#all[@]} -eq 0 ]; then
  echo "no notebooks yet: the library and the benchmark harness are built (see README)."
  exit 0
fi
notebooks=(); params=()
for arg in "$@"; do
  case "$arg" in
    *=*) params+=("$arg") ;;
    *) nb="notebooks/$(basename "${arg%.ipynb}").ipynb"
       [ -f "$nb" ] || { echo "run.sh: no notebook '$arg' (have: ${all[*]})" >&2; exit 2; }
       notebooks+=("$nb") ;;
  esac
done
[ ${#notebooks[@]} -gt 0 ] || notebooks=("${all[@]}")
# The parameters a notebook declares: its NotebookParameters.Get("name", default) calls.
declared() { grep -o 'NotebookParameters.Get(\\"[A-Za-z0-9_]*\\"' "$1" | sed 's/.*(\\"//; s/\\"$//' | sort -u; }
for kv in ${params[@]+"${params[@]}"}; do
  name="${kv%%=*}"; known=0
  for nb in "${notebooks[@]}"; do if declared "$nb" | grep -qx "$name"; then known=1; fi; done
  [ $known -eq 1 ] || { echo "run.sh: parameter '$name' is declared by none of: ${notebooks[*]}" >&2; exit 2; }
done
version=$(bash eng/pack.sh --no-build)
echo "packed LabelAssignment $version into feed/"
renderer=tools/NotebookReport/bin/Release/net10.0/LabelAssignment.NotebookReport.dll
failed=()
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  out="reports/$name.ipynb"
  echo "running $nb -> $out"
  # The kernel's working folder is notebooks/ (as in VS Code), so relative paths in notebooks mean the same.
  inputs=()
  for kv in ${params[@]+"${params[@]}"}; do
    if declared "$nb" | grep -qx "${kv%%=*}"; then inputs+=(--input "$kv"); fi
  done
  rm -f "$out"
  status=0
  (cd notebooks && dotnet repl --run "$(basename "$nb")" --exit-after-run --output-path "../$out" ${inputs[@]+"${inputs[@]}"}) || status=$?
  if [ ! -f "$out" ]; then echo "dotnet repl wrote no $out (exit $status)" >&2; exit 1; fi
  [ "$status" -eq 0 ] || failed+=("$nb (exit $status)")
  dotnet "$renderer" "$out" "reports/$name.html"
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'notebook with an error cell: %s\n' "${failed[@]}" >&2
  exit 1
fi
