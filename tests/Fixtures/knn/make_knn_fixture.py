#!/usr/bin/python3
"""Reference for tests/Embedding/NeighbourAccuracyTests.cs, with Debian's scikit-learn 1.2.1:
/usr/bin/python3 make_knn_fixture.py (from this folder).

X: 300 x 8 float32 points around 6 random centres (seed 7), labels = centre; coarse = label // 2.
Leave-one-out 10-NN accuracy with metric='cosine': each point's 10 nearest OTHER points vote (uniform weights;
scipy's mode gives ties to the smallest label, as KNeighborsClassifier does).
"""
import numpy as np
from sklearn.neighbors import NearestNeighbors
from scipy import stats

rng = np.random.default_rng(7)
centres = rng.normal(size=(6, 8))
labels = rng.integers(0, 6, size=300)
X = (centres[labels] + 0.9 * rng.normal(size=(300, 8))).astype(np.float32)
np.save("knn_X.npy", X)
np.save("knn_labels.npy", labels.astype(np.int32))
nn = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute").fit(X)
_, idx = nn.kneighbors(X)
out = []
for lab in (labels, labels // 2):
    correct = 0
    for i in range(len(X)):
        nb = [j for j in idx[i] if j != i][:10]
        pred = stats.mode(lab[nb], keepdims=False).mode
        correct += int(pred == lab[i])
    out.append(correct)
print("correct fine, coarse:", out)
