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
# Prints one line per cell (which cell of which section, its wall time). A failing cell stops the run: its error is
# printed, its notebook's report is still written (with the error), later notebooks are not run, and the exit code is 1.
# Then every report is loaded in headless Chromium (when installed): every chart must draw, every image render, no
# script error; a PNG screenshot of each goes next to it. reports/index.html links them with their headline numbers.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS=0
echo "building (Release) ..."
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
done_ipynb=(); failed=""
count=0
for nb in "${notebooks[@]}"; do
  count=$((count + 1))
  name="$(basename "$nb" .ipynb)"
  out="reports/$name.ipynb"
  inputs=()
  for kv in ${params[@]+"${params[@]}"}; do
    if declared "$nb" | grep -qx "${kv%%=*}"; then inputs+=(--input "$kv"); fi
  done
  echo "== $name ($count of ${#notebooks[@]})${inputs[*]+ with ${inputs[*]}} -> $out"
  rm -f "$out" "reports/$name.html" "reports/$name.png" "reports/$name.check.json"
  status=0
  start=$SECONDS
  # The kernel's working folder is notebooks/ (as in VS Code), so relative paths in notebooks mean the same.
  # The library's extension prints one line per cell to stderr (Reporting/Provenance.cs) and stops at a failed cell.
  # DOTNET_TieredCompilation=0: the kernel JITs every method fully optimised at once. With tiering on, the hot image
  # preprocessing (ImageSharp's resize, ours) ran at tier 0 for thousands of images while ONNX Runtime kept both
  # cores busy (the background tier-1 compiler got no time): notebook 1 embedded at 17-32 images/s instead of 56
  # (measured in one session, see notebooks/README.md).
  (cd notebooks && DOTNET_TieredCompilation=0 dotnet repl --run "$(basename "$nb")" --exit-after-run --output-path "../$out" ${inputs[@]+"${inputs[@]}"} </dev/null) || status=$?
  if [ ! -f "$out" ]; then echo "dotnet repl wrote no $out (exit $status)" >&2; exit 1; fi
  dotnet "$renderer" "$out" "reports/$name.html" | sed 's/^/  /'
  done_ipynb+=("$out")
  echo "   $name took $((SECONDS - start)) s"
  if [ "$status" -ne 0 ]; then failed="$name"; break; fi
done
check_status=0
htmls=(); for f in "${done_ipynb[@]}"; do htmls+=("${f%.ipynb}.html"); done
dotnet "$renderer" check --screenshots "${htmls[@]}" || check_status=$?
dotnet "$renderer" index reports/index.html "${done_ipynb[@]}" >/dev/null
echo "reports: $(pwd)/reports/index.html"
for h in "${htmls[@]}"; do echo "  $h"; done
echo "total time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
if [ -n "$failed" ]; then
  echo "run.sh: $failed has a failed cell (its error is above and in reports/$failed.html); later notebooks were not run." >&2
  exit 1
fi
if [ "$check_status" -ne 0 ]; then echo "run.sh: a report failed the browser check (see above)." >&2; exit 1; fi
