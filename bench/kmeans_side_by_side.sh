#!/usr/bin/env bash
# KMeans, ours and scikit-learn's, alternated fit by fit so both see the same load on a shared machine.
# usage: bench/kmeans_side_by_side.sh X.npy [k=100] [n_init=1] [rounds=5] [seed=42, the anchor script's]
# Needs Debian's Python with scikit-learn (/usr/bin/python3); OpenBLAS is pinned to its Haswell kernels
# (it misdetects this CPU), as in ../shared/anchors/RESULTS.md. Both sides discard a first fit shorter than 5 s
# as warm-up (JIT / thread pools), as bench and anchor_bench.py do. Prints one line per fit and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
x=$1; k=${2:-100}; n_init=${3:-1}; rounds=${4:-5}; seed=${5:-42}
tag=$([ "$n_init" = 10 ] && echo default || echo "$n_init")
dotnet build bench -c Release -v quiet -nologo > /dev/null
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  dotnet bench/bin/Release/net10.0/LabelAssignment.Bench.dll run "$x" --cases kmeans --kmeans-k "$k" --kmeans-seed "$seed" \
    --kmeans-n-init "$tag" --repeats 1 --out "$out/ours$r.json" 2>/dev/null \
    | python3 -c 'import sys,json; r=json.loads(sys.stdin.readline()); s=r["summary"]; print("ours    %8.3f s  cpu %6.3f s  inertia %.2f" % (r["median_s"], s["cpu_s_per_fit"], s["inertia"]))'
  OPENBLAS_CORETYPE=Haswell /usr/bin/python3 - "$x" "$k" "$n_init" "$seed" <<'PY'
import sys, time, numpy as np
from sklearn.cluster import KMeans
X = np.load(sys.argv[1]); k, n_init, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def fit():
    t, c = time.perf_counter(), time.process_time()
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)
    return km, t, c
km, t, c = fit()
if time.perf_counter() - t < 5.0:  # the harness's rule: a first run under 5 s is an uncounted warm-up
    km, t, c = fit()
print(f"sklearn {time.perf_counter() - t:8.3f} s  cpu {time.process_time() - c:6.3f} s  inertia {km.inertia_:.2f}")
PY
done | tee "$out/log"
python3 - "$out/log" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
med = {who: st.median(float(r[1]) for r in rows if r[0] == who) for who in ("ours", "sklearn")}
cpu = {who: st.median(float(r[4]) for r in rows if r[0] == who) for who in ("ours", "sklearn")}
print(f"median wall: ours {med['ours']:.3f} s, sklearn {med['sklearn']:.3f} s -> {med['sklearn'] / med['ours']:.2f}x; "
      f"median cpu: {cpu['ours']:.3f} s vs {cpu['sklearn']:.3f} s -> {cpu['sklearn'] / cpu['ours']:.2f}x")
PY
