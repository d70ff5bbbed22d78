#!/usr/bin/env bash
# DBSCAN side by side: scikit-learn (anchor_bench.py, OpenBLAS with Haswell kernels) then this library, on the same
# files in one go, then the ratio table. Usage (from the repo root):
#   bash bench/dbscan-vs-sklearn.sh DATA/n10000_d512_X.npy [DATA/n10000_d1408_X.npy ...] [-- extra bench options]
# ANCHORS overrides the folder of anchor_bench.py (default ../shared/anchors, beside the repo).
# The anchor also (re)writes its labels under <X without .npy>.anchors/, which our side then checks.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(); extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
  files+=("$1"); shift
done
[ ${#files[@]} -gt 0 ] || { echo "usage: $0 X.npy [X2.npy ...] [-- bench options]" >&2; exit 2; }
dotnet build bench -c Release -v q -nologo >/dev/null
out=$(mktemp -d)
for x in "${files[@]}"; do
  stem=$(basename "$x" .npy)
  OPENBLAS_CORETYPE=Haswell /usr/bin/python3 "${ANCHORS:-../shared/anchors}/anchor_bench.py" "$x" --cases dbscan \
    --out "$out/$stem.anchors.json" >&2
  dotnet bench/bin/Release/net10.0/LabelAssignment.Bench.dll run "$x" --cases dbscan --out "$out/$stem.dotnet.json" \
    "${extra[@]}" >/dev/null
  echo "== $stem"
  dotnet bench/bin/Release/net10.0/LabelAssignment.Bench.dll compare "$out/$stem.dotnet.json" "$out/$stem.anchors.json"
done
echo "(JSON reports kept in $out)"
