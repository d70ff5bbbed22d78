#!/usr/bin/python3
"""Reference values for tests/Metrics/ClusteringMetricsTests.cs, computed with Debian's scikit-learn 1.2.1.

Run from anywhere (takes about a minute, almost all of it sklearn's AMI on the n=10000, k=5000 case):
    /usr/bin/python3 tests/Fixtures/metrics/make_reference.py

Writes, next to this script:
  <case>.npy        int32 (2, n): row 0 = labeling A ("labels_true"), row 1 = labeling B ("labels_pred")
  reference.json    per case: sklearn's adjusted_rand_score, adjusted_mutual_info_score (average_method=
                    'arithmetic', the default), normalized_mutual_info_score ('arithmetic'), mutual_info_score,
                    expected_mutual_information (on the same sparse float contingency AMI uses), entropy of each
                    labeling, the match rate (numpy: mean(a == b)), the number of distinct labels, and where
                    the labels came from. Values are repr()'d floats (17 significant digits).
The cases are deterministic (fixed seeds), so a rerun gives identical files.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import (adjusted_mutual_info_score, adjusted_rand_score, mutual_info_score,
                             normalized_mutual_info_score)
from sklearn.metrics.cluster import contingency_matrix, entropy, expected_mutual_information

HERE = os.path.dirname(os.path.abspath(__file__))

# From sklearn/metrics/cluster/tests/test_supervised.py (scikit-learn 1.2.1), test_adjusted_mutual_info_score.
SK_A = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3]
SK_B = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2]


def pairs_like_anchor(n, k, seed, moved_frac=0.2):
    """As ../shared/anchors/make_data.py label_pairs: A = every cluster of size n/k, B = A with a share moved."""
    rng = np.random.default_rng([seed, n, k, 1])
    a = rng.permutation(np.arange(n) % k)
    b = a.copy()
    moved = rng.random(n) < moved_frac
    b[moved] = rng.integers(0, k, int(moved.sum()))
    return a, b


def cases():
    out = {}
    out["sklearn_test_17"] = (SK_A, SK_B, "test_supervised.py test_adjusted_mutual_info_score labels_a/labels_b")
    out["sklearn_test_a110"] = (SK_A * 110, SK_B * 110, "test_adjusted_mutual_info_score a110/b110 (labels x110)")
    out["sklearn_nonconsecutive"] = ([0, 0, 0, 1, 1, 1], [0, 4, 0, 4, 2, 2], "test_non_consecutive_labels ari_2")
    out["sklearn_rand_score"] = ([0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 2, 2], "test_rand_score clustering1/2")
    rs = np.random.RandomState(42)
    for k in (2, 10, 50, 90):  # as uniform_labelings_scores in test_adjustment_for_chance
        out[f"uniform_n100_k{k}"] = (rs.randint(0, k, 100), rs.randint(0, k, 100),
                                     f"np.random.RandomState(42).randint(0, {k}, 100), twice (sequential draws)")
    rng = np.random.default_rng(7)
    values = np.array([-2147483648, -7, -1, 0, 3, 1000000, 2147483647])
    out["negative_gapped_n500"] = (values[rng.integers(0, 7, 500)], values[rng.integers(0, 5, 500)] * 3 + 1,
                                   "default_rng(7): labels from {int32 min, -7, -1, 0, 3, 1e6, int32 max}; B = 3v+1")
    a, b = pairs_like_anchor(3000, 1500, 11)
    out["pairs_n3000_k1500"] = (a, b, "label_pairs-like: A = permutation(arange(3000) % 1500), 20% of B moved, seed 11")
    rng = np.random.default_rng(13)
    a = np.minimum(rng.zipf(1.6, 5000), 400) - 1
    b = a.copy()
    moved = rng.random(5000) < 0.3
    b[moved] = rng.integers(0, 60, int(moved.sum()))
    out["zipf_n5000"] = (a, b, "default_rng(13): A = min(zipf(1.6), 400) - 1 (skewed sizes), 30% of B moved to 0..59")
    rng = np.random.default_rng(17)
    out["big_clusters_n4000"] = ((rng.random(4000) < 0.47).astype(int), rng.integers(0, 3, 4000),
                                 "default_rng(17): A = 2 clusters (~47/53%), B = 3 uniform clusters")
    out["one_vs_many_n50"] = ([0] * 50, [i % 7 for i in range(50)], "A constant, B = i % 7")
    out["many_vs_one_n50"] = ([i % 7 for i in range(50)], [5] * 50, "A = i % 7, B constant")
    rng = np.random.default_rng(19)
    a = rng.integers(0, 20, 300)
    perm = rng.permutation(20) * 10 - 50
    out["same_partition_renamed_n300"] = (a, perm[a], "default_rng(19): A in 0..19, B = renamed A (same partition)")
    out["singletons_n100"] = (list(range(100)), list(range(99, -1, -1)), "all singletons both (B reversed names)")
    out["singletons_vs_pairs_n100"] = (list(range(100)), [i // 2 for i in range(100)], "A singletons, B = i // 2")
    a, b = pairs_like_anchor(10000, 5000, 20250418)
    out["pairs_n10000_k5000"] = (a, b, "label_pairs(10000, 5000, 20250418) as make_data.py (sklearn AMI ~1 min)")
    return out


def main():
    reference = {"generated_by": "tests/Fixtures/metrics/make_reference.py",
                 "sklearn": sklearn.__version__, "numpy": np.__version__, "cases": {}}
    for name, (a, b, source) in cases().items():
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        np.save(os.path.join(HERE, f"{name}.npy"), np.stack([a, b]).astype(np.int32))
        c = contingency_matrix(a, b, sparse=True).astype(np.float64, copy=False)
        reference["cases"][name] = {
            "source": source,
            "n": int(len(a)),
            "distinct_a": int(len(np.unique(a))),
            "distinct_b": int(len(np.unique(b))),
            "ari": repr(float(adjusted_rand_score(a, b))),
            "ami": repr(float(adjusted_mutual_info_score(a, b))),
            "nmi": repr(float(normalized_mutual_info_score(a, b))),
            "mi": repr(float(mutual_info_score(a, b))),
            "emi": repr(float(expected_mutual_information(c, len(a)))),
            "entropy_a": repr(float(entropy(a))),
            "entropy_b": repr(float(entropy(b))),
            "match_rate": repr(float(np.mean(a == b))),
        }
        print(name, reference["cases"][name]["ami"], flush=True)
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
