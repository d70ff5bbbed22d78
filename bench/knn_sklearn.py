#!/usr/bin/python3
"""Independent check of the bench "knn" case with Debian's scikit-learn:
    /usr/bin/python3 bench/knn_sklearn.py data/embeddings/cifar100-test-n10000-resnet18-224-l2 [k]
Leave-one-out k-NN (cosine, brute force): each item's k nearest OTHER items vote with uniform weights
(ties -> smallest label, scipy.stats.mode), on labels.npy (fine) and coarse_labels.npy.
"""
import sys, os
import numpy as np
from scipy import stats
from sklearn.neighbors import NearestNeighbors

folder = sys.argv[1]
k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
X = np.load(os.path.join(folder, "X.npy"))
fine = np.load(os.path.join(folder, "labels.npy"))
coarse = np.load(os.path.join(folder, "coarse_labels.npy"))
_, idx = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(X).kneighbors(X)
# Drop the item itself (normally column 0; an exact duplicate may come first instead).
nb = np.array([[j for j in row if j != i][:k] for i, row in enumerate(idx)])
for name, lab in (("fine", fine), ("coarse", coarse)):
    pred = stats.mode(lab[nb], axis=1, keepdims=False).mode
    print(f"{name}: {np.mean(pred == lab):.4f} ({int(np.sum(pred == lab))}/{len(lab)})")
