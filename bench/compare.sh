#!/usr/bin/env bash
# Runs scikit-learn/SciPy (../shared/anchors/anchor_bench.py) and our harness on the same .npy files in one go,
# then prints one table per data set: time ratios (ours / theirs) and whether both computed the same thing.
#
#   bash bench/compare.sh DATA_DIR [SET ...] [--cases a,b] [--out DIR] [--reuse-anchors] [--option value ...]
#
#   DATA_DIR         folder of the anchor data (make_data.py writes it there when a set is missing)
#   SET              data set stems, e.g. n10000_d512 (default) n10000_d1408 n50000_d512
#   --cases a,b      cases to run (default: every case both sides know); see `dotnet run --project bench -- list`
#   --out DIR        where the reports, artifacts and tables go (default: data/bench/ in the repo, git-ignored)
#   --reuse-anchors  keep an existing anchor report instead of rerunning scikit-learn (it takes minutes)
#   --kmeans-seeds L KMeans seeds, a range or a list (default 0-9): one fit moves 2-3% with the seed, so both sides
#                    report the median inertia over these seeds; the anchor script takes one seed, so it runs once
#                    per seed (the first timed with --repeats, the others fitted once)
#   --option value   any other option goes to both sides unchanged (same names on both: --repeats 3,
#                    --metric-ks 100,5000, --dbscan-eps 0.1,0.2, ...)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# The anchors live in shared/anchors next to the repository (../shared/anchors); a git worktree sits one level
# deeper, so look upwards. ANCHORS_DIR overrides.
anchors="${ANCHORS_DIR:-}"
if [ -z "$anchors" ]; then
  d="$repo"
  while [ "$d" != "/" ]; do
    d="$(dirname "$d")"
    if [ -f "$d/shared/anchors/anchor_bench.py" ]; then anchors="$d/shared/anchors"; break; fi
  done
fi
python=/usr/bin/python3 # Debian's Python: the pyenv python3 on PATH lacks numpy/scipy/sklearn

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-2}"; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage 0 ;; esac
data="$1"; shift
sets=(); cases=""; out="$repo/data/bench"; reuse=0; pass=(); kmeans_seeds="0-9"
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases="${2:?--cases needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --reuse-anchors) reuse=1; shift ;;
    --kmeans-seeds) kmeans_seeds="${2:?--kmeans-seeds needs a value}"; shift 2 ;;
    -h|--help) usage 0 ;;
    --*) [ $# -ge 2 ] || { echo "compare.sh: option $1 needs a value" >&2; exit 2; }; pass+=("$1" "$2"); shift 2 ;;
    *) sets+=("$1"); shift ;;
  esac
done
[ ${#sets[@]} -gt 0 ] || sets=(n10000_d512)
for s in "${sets[@]}"; do
  [[ "$s" =~ ^n([0-9]+)_d([0-9]+)$ ]] || { echo "compare.sh: set '$s' is not of the form n<N>_d<D> (e.g. n10000_d512)" >&2; exit 2; }
done
[ -n "$anchors" ] && [ -f "$anchors/anchor_bench.py" ] || {
  echo "compare.sh: anchor_bench.py not found in shared/anchors above $repo; set ANCHORS_DIR to its folder" >&2; exit 2; }

# 1. Debian's Python with numpy, SciPy, scikit-learn, pandas, threadpoolctl, and OpenBLAS as the BLAS.
apt_line="sudo apt-get install -y python3-sklearn python3-scipy python3-numpy python3-pandas python3-threadpoolctl libopenblas0-pthread"
if ! [ -x "$python" ] || ! "$python" -c "import numpy, scipy, sklearn, pandas, threadpoolctl" 2>/dev/null; then
  echo "compare.sh: $python with numpy, scipy, scikit-learn, pandas and threadpoolctl is needed. Install it with:" >&2
  echo "  $apt_line" >&2
  exit 3
fi
# OpenBLAS detects this VM's CPU as 'Prescott' and then runs its slow generic kernels; Haswell kernels
# (AVX2/FMA) are right for it and are what ../shared/anchors/RESULTS.md measured with. Respect a caller's choice.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-Haswell}"
blas=$("$python" - <<'EOF'
import numpy, threadpoolctl
numpy.ones((64, 64)) @ numpy.ones((64, 64))  # load the BLAS
pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
print(" ".join(f"{p['internal_api']}:{p.get('architecture')}:{p['num_threads']}" for p in pools) or "none")
EOF
)
case "$blas" in
  *openblas*) echo "BLAS: $blas (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)" ;;
  *) echo "compare.sh: numpy uses no OpenBLAS ($blas); the reference BLAS is ~30x slower on GEMM. Install it with:" >&2
     echo "  $apt_line" >&2
     exit 3 ;;
esac

# 2. Our harness, built once; the cases each side knows.
dotnet build "$repo/bench" -c Release --nologo -v quiet >/dev/null
bench=(dotnet run --no-build -c Release --project "$repo/bench" --)
ours_cases=$("${bench[@]}" list | paste -sd, -)
anchor_cases="dbscan,kmeans,lsa,cdist,pairwise,metrics,nearest"
if [ -z "$cases" ]; then
  cases=$(comm -12 <(tr , '\n' <<<"$ours_cases" | sort) <(tr , '\n' <<<"$anchor_cases" | sort) | paste -sd, -)
fi
run_ours=(); run_theirs=()
for c in ${cases//,/ }; do
  [[ ",$ours_cases," == *",$c,"* ]] && run_ours+=("$c") || echo "note: case '$c' is not implemented by our harness (it has: $ours_cases)"
  [[ ",$anchor_cases," == *",$c,"* ]] && run_theirs+=("$c") || echo "note: case '$c' has no scikit-learn/SciPy anchor: ours runs alone"
done
[ ${#run_ours[@]} -gt 0 ] || { echo "compare.sh: none of the cases '$cases' is implemented by our harness" >&2; exit 2; }
ours_list=$(IFS=,; echo "${run_ours[*]}")
# KMeans runs apart on the anchor side: once per seed.
kmeans_anchor=0; main_theirs=()
for c in ${run_theirs[@]+"${run_theirs[@]}"}; do
  if [ "$c" = kmeans ]; then kmeans_anchor=1; else main_theirs+=("$c"); fi
done
theirs_list=$(IFS=,; echo "${main_theirs[*]:-}")
seeds=()
for part in ${kmeans_seeds//,/ }; do
  if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
    for ((v = BASH_REMATCH[1]; v <= BASH_REMATCH[2]; v++)); do seeds+=("$v"); done
  elif [[ "$part" =~ ^[0-9]+$ ]]; then seeds+=("$part")
  else echo "compare.sh: --kmeans-seeds '$kmeans_seeds': '$part' is not a seed or a range such as 0-9" >&2; exit 2
  fi
done
[ ${#seeds[@]} -gt 0 ] || { echo "compare.sh: --kmeans-seeds '$kmeans_seeds' names no seed" >&2; exit 2; }

mkdir -p "$out"
status=0
for s in "${sets[@]}"; do
  x="$data/${s}_X.npy"
  # 3. The anchor data, generated (deterministically) when missing.
  if [ ! -f "$x" ]; then
    [[ "$s" =~ ^n([0-9]+)_d([0-9]+)$ ]]
    echo "== $x missing: generating it with make_data.py"
    "$python" "$anchors/make_data.py" "$data" --sets "${BASH_REMATCH[1]}x${BASH_REMATCH[2]}"
  fi
  theirs_json="$out/$s.anchors.json"; ours_json="$out/$s.dotnet.json"; table="$out/$s.compare.txt"
  anchor_reports=()
  # 4. scikit-learn / SciPy, keeping its reference outputs (labels, centres) for the label comparison.
  if [ -n "$theirs_list" ]; then
    if [ $reuse -eq 1 ] && [ -f "$theirs_json" ]; then
      echo "== $s: reusing $theirs_json"
    else
      echo "== $s: anchor_bench.py --cases $theirs_list"
      "$python" "$anchors/anchor_bench.py" "$x" --cases "$theirs_list" --out "$theirs_json" \
        --artifacts "$out/$s.anchors" ${pass[@]+"${pass[@]}"}
    fi
    anchor_reports+=("$theirs_json")
  fi
  if [ $kmeans_anchor -eq 1 ]; then
    for i in "${!seeds[@]}"; do
      seed="${seeds[$i]}"; seed_json="$out/$s.anchors.kmeans-seed$seed.json"
      if [ $reuse -eq 1 ] && [ -f "$seed_json" ]; then
        echo "== $s: reusing $seed_json"
      elif [ "$i" -eq 0 ]; then
        # The first seed is timed as usual and keeps its labels and centres.
        echo "== $s: anchor_bench.py --cases kmeans --kmeans-seed $seed (timed)"
        "$python" "$anchors/anchor_bench.py" "$x" --cases kmeans --out "$seed_json" --artifacts "$out/$s.anchors" \
          ${pass[@]+"${pass[@]}"} --kmeans-seed "$seed"
      else
        echo "== $s: anchor_bench.py --cases kmeans --kmeans-seed $seed (one fit, for the inertia)"
        "$python" "$anchors/anchor_bench.py" "$x" --cases kmeans --out "$seed_json" --artifacts none \
          ${pass[@]+"${pass[@]}"} --kmeans-seed "$seed" --repeats 1 --warmup-below 0
      fi
      anchor_reports+=("$seed_json")
    done
  fi
  # 5. Ours, on the same files.
  echo "== $s: bench run --cases $ours_list"
  "${bench[@]}" run "$x" --cases "$ours_list" --out "$ours_json" --artifacts "$out/$s.dotnet" \
    --anchor-artifacts "$out/$s.anchors" --kmeans-seeds "$kmeans_seeds" ${pass[@]+"${pass[@]}"}
  # 6. The table.
  echo
  echo "== $s: ours / theirs (below 1 = we are faster)"
  if [ ${#anchor_reports[@]} -gt 0 ]; then
    "${bench[@]}" compare "$ours_json" "${anchor_reports[@]}" | tee "$table" || status=1
  else
    echo "(no anchor report: nothing to compare against)"
  fi
  echo
done
echo "reports, artifacts and tables are in $out"
exit $status
