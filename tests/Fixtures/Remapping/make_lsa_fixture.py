"""Writes lsa_100x100.npy and prints SciPy's optimum for it (pasted into tests/Remapping/LinearAssignmentTests.cs).

The matrix is the anchor matrix ../shared/anchors/make_data.py writes as lsa_100x100.npy (same seed, same generator),
so this file is byte-identical to the anchor data. Run with Debian's Python (numpy 1.24.2, scipy 1.10.1):
    /usr/bin/python3 tests/Fixtures/Remapping/make_lsa_fixture.py tests/Fixtures/Remapping
"""
import hashlib
import os
import sys

import numpy as np
from scipy.optimize import linear_sum_assignment

out = sys.argv[1] if len(sys.argv) > 1 else "."
C = np.random.default_rng([20250418, 100, 100, 2]).random((100, 100))
path = os.path.join(out, "lsa_100x100.npy")
np.save(path, C)
print("sha256", hashlib.sha256(open(path, "rb").read()).hexdigest())
for maximize in (False, True):
    r, c = linear_sum_assignment(C, maximize=maximize)
    print("maximize" if maximize else "minimize", repr(float(C[r, c].sum())), ",".join(map(str, c)))
# A tall slice (rows > columns, so SciPy transposes): the first 100 rows, first 37 columns.
T = C[:, :37]
r, c = linear_sum_assignment(T)
print("tall100x37 rows", ",".join(map(str, r)))
print("tall100x37 cols", ",".join(map(str, c)), repr(float(T[r, c].sum())))
