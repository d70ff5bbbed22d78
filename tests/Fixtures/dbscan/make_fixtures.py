#!/usr/bin/python3
"""Reference labels for tests/Clustering/DbscanSklearnTests.cs, computed once with Debian's scikit-learn 1.2.1.

Run from this folder:  /usr/bin/python3 make_fixtures.py
Writes (all .npy):
  X.npy                                  float32 [2000, 32]: 40 anisotropic clusters on a cone plus background
  labels_cosine_eps{E}_min{M}.npy        int32 [2000]: DBSCAN(eps=E, min_samples=M, metric='cosine').labels_
  labels_euclidean_eps{E}_min{M}.npy     int32 [2000]: DBSCAN(eps=E, min_samples=M, metric='euclidean').labels_
  core_cosine_eps{E}_min{M}.npy          int32: core_sample_indices_ (same for euclidean)
The cases are listed in cases.txt (metric eps min_samples per line), which the test reads.
"""
import numpy as np
import sklearn
from sklearn.cluster import DBSCAN

assert sklearn.__version__ == "1.2.1", sklearn.__version__
rng = np.random.default_rng(20260101)
n, d, k = 2000, 32, 40
g0 = rng.normal(size=d)
g0 /= np.linalg.norm(g0)
centres = rng.normal(size=(k, d))
centres /= np.linalg.norm(centres, axis=1, keepdims=True)
centres = 0.8 * g0 + 0.6 * centres                       # a common cone, as real encoders produce
sizes = rng.multinomial(int(n * 0.8), rng.dirichlet(np.full(k, 5.0)))
rows = []
for c, m in enumerate(sizes):
    basis = rng.normal(size=(3, d))                      # low-rank, elongated clusters (border points exist)
    coef = rng.normal(size=(m, 3)) * np.array([0.25, 0.12, 0.06]) * rng.uniform(0.5, 1.5)
    rows.append(centres[c] + coef @ basis / np.sqrt(d) + 0.02 * rng.normal(size=(m, d)))
rows.append(0.8 * g0 + 0.6 * rng.normal(size=(n - sizes.sum(), d)) / np.sqrt(d))
X = np.vstack(rows)
X = X[rng.permutation(n)]
# Unnormalised rows (norms 0.5-2) so the cosine path must normalise; a few exact duplicates for ties.
X *= rng.uniform(0.5, 2.0, size=(n, 1))
X[1000:1010] = X[0:10]
X = X.astype(np.float32)
np.save("X.npy", X)

cases = [("cosine", 0.02, 5), ("cosine", 0.05, 3), ("cosine", 0.1, 10),
         ("euclidean", 0.25, 5), ("euclidean", 0.4, 3)]
with open("cases.txt", "w") as f:
    for metric, eps, ms in cases:
        db = DBSCAN(eps=eps, min_samples=ms, metric=metric).fit(X)
        tag = f"{metric}_eps{eps:g}_min{ms}"
        np.save(f"labels_{tag}.npy", db.labels_.astype(np.int32))
        np.save(f"core_{tag}.npy", db.core_sample_indices_.astype(np.int32))
        f.write(f"{metric} {eps:g} {ms}\n")
        k_found = db.labels_.max() + 1
        print(tag, "clusters", k_found, "noise", np.mean(db.labels_ < 0).round(3), "core", len(db.core_sample_indices_))
