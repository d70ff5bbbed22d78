# Reference values for tests/Reporting/Projection2DTests.cs and tests/Remapping/RemapEvaluationTests.cs (run with Debian python3: numpy, scikit-learn 1.2.1).
import numpy as np
from sklearn.metrics import adjusted_rand_score as ari, adjusted_mutual_info_score as ami
print(repr(ari([0,0,1,1,1],[5,5,5,7,7])), repr(ami([0,0,1,1,1],[5,5,5,7,7])))
def pca(x):
    x = x.astype(np.float64); xc = x - x.mean(0)
    u,s,vt = np.linalg.svd(xc, full_matrices=False)
    p = xc @ vt[:2].T
    for c in range(2):
        a = np.argmax(np.abs(p[:,c]))
        if p[a,c] < 0: p[:,c] *= -1
    return p
def data(n,d):
    return np.array([[np.float32(np.sin(1.3*i + 0.7*j*j)) for j in range(d)] for i in range(n)], dtype=np.float32)
for n,d in [(12,5),(3,8)]:
    p = pca(data(n,d))
    print(n,d, ", ".join(f"{v:.12f}" for v in p.ravel()))
