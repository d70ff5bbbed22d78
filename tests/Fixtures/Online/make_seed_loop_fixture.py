"""Fixture for tests/Online/SeedLoopTests.cs: the article's online loop on a small input.

Run from the repository root with Debian's Python (numpy, scikit-learn 1.2.1, pandas):
    /usr/bin/python3 tests/Fixtures/Online/make_seed_loop_fixture.py ../shared/anchors
It imports `nearest_neighbour_loop` from the anchor script (the faithful re-run of the seed notebook's pandas
loop: first centre within eps in table order, centre recomputed as the mean of the cluster's rows, smallest-free
IDs) and writes, next to this script:
    seed_loop_X.npy            float32 [n, 8]: 40 clumps of unit vectors plus background, seed 7
    seed_loop_dbscan.npy       int64 [n_init]: DBSCAN(eps=0.1, min_samples=3, metric='cosine') labels of the init rows
    seed_loop_init_ids.npy     int64 [n_init]: cluster ids after the seed gives each noise point a fresh id
    seed_loop_stream_ids.npy   int64 [n - n_init]: ids the loop gives the streamed rows, in order
"""
import os
import sys

import numpy as np
from sklearn.cluster import DBSCAN

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/anchors")
from anchor_bench import nearest_neighbour_loop  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
d, n_init, n_stream = 8, 300, 200
means = rng.normal(size=(40, d))
rows = []
for i in range(n_init + n_stream):
    if rng.random() < 0.25:
        v = rng.normal(size=d)
    else:
        v = means[rng.integers(40)] + 0.25 * rng.normal(size=d)
    rows.append(v / np.linalg.norm(v))
X = np.asarray(rows, dtype=np.float32)
labels = DBSCAN(eps=0.1, min_samples=3, metric="cosine").fit(X[:n_init].astype(np.float64)).labels_
res = nearest_neighbour_loop(X, 0.1, n_init, n_stream, 600.0)
assert res["rows_streamed"] == n_stream
np.save(os.path.join(here, "seed_loop_X.npy"), X)
np.save(os.path.join(here, "seed_loop_dbscan.npy"), labels.astype(np.int64))
np.save(os.path.join(here, "seed_loop_init_ids.npy"), res["init_ids"])
np.save(os.path.join(here, "seed_loop_stream_ids.npy"), res["stream_ids"])
print("clusters", labels.max() + 1, "noise", int((labels < 0).sum()), "centres_at_start", res["centres_at_start"],
      "joined", res["joined_existing"], "new", res["new_clusters"])
