"""Writes the KMeans agreement fixtures with Debian's scikit-learn 1.2.1 (run from this folder):

    OPENBLAS_CORETYPE=Haswell /usr/bin/python3 make_fixture.py

blobs:   make_blobs(n_samples=600, n_features=16, centers=8, cluster_std=1.5, random_state=42), KMeans k=8, n_init=10.
uniform: 400 x 12 uniform [0, 1) float32 (numpy default_rng(7)), KMeans k=10, n_init=10 (many local optima).
Each case: <name>_X.npy (float32), <name>_labels.npy (int32, scikit-learn's labels), and a line in
reference.txt: name k n_init inertia n_iter.
"""
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

lines = [f"# scikit-learn {sklearn.__version__}, KMeans(n_clusters=k, n_init=n_init, random_state=0); name k n_init inertia n_iter"]
X, _ = make_blobs(n_samples=600, n_features=16, centers=8, cluster_std=1.5, random_state=42)
cases = {"blobs": (X.astype(np.float32), 8), "uniform": (np.random.default_rng(7).random((400, 12), dtype=np.float32), 10)}
for name, (X, k) in cases.items():
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
    np.save(f"{name}_X.npy", X)
    np.save(f"{name}_labels.npy", km.labels_.astype(np.int32))
    lines.append(f"{name} {k} 10 {km.inertia_!r} {km.n_iter_}")
open("reference.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
