#!/usr/bin/python3
"""Writes small CIFAR-100 fixtures in both official layouts, for tests/Data/Cifar100Tests.cs.

Run with Debian's Python (numpy): /usr/bin/python3 make_cifar100_fixtures.py  (from this folder).

- cifar-100-python/{train,test,meta}: pickles laid out like the official ones, which Python 2's cPickle wrote
  (protocol 2, byte strings as BINSTRING, numpy arrays through numpy.core.multiarray._reconstruct): a dict with
  b'data' uint8 (n, 3072) in R, G, B planes, b'fine_labels', b'coarse_labels' (lists of int), b'filenames',
  b'batch_label'; meta has b'fine_label_names' and b'coarse_label_names'. They load in Python 3 with
  pickle.load(f, encoding='bytes'), as the official files do.
- cifar-100-py3/test: the same test dict written by Python 3's own pickle (protocol 4, BINBYTES), the form a
  re-saved copy takes.
- cifar-100-binary/{train,test}.bin + label name files: the same images in the binary format.
Pixel value of image i, channel c, row y, column x = (i * 37 + c * 80 + y * 7 + x * 3) % 256; labels below.
"""
import pickle, struct, io
import numpy as np

FINE = [f"fine{i:02d}" for i in range(100)]
COARSE = [f"coarse{i:02d}" for i in range(20)]

def images(n, offset):
    i = np.arange(offset, offset + n)[:, None, None, None]
    c = np.arange(3)[None, :, None, None]
    y = np.arange(32)[None, None, :, None]
    x = np.arange(32)[None, None, None, :]
    return ((i * 37 + c * 80 + y * 7 + x * 3) % 256).astype(np.uint8).reshape(n, 3072)

class Py2Pickler(pickle._Pickler):
    """Writes bytes the way Python 2 wrote str: SHORT_BINSTRING / BINSTRING."""
    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)
    dispatch = pickle._Pickler.dispatch.copy()
    dispatch[bytes] = save_bytes

def dump_py2(obj, path):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    with open(path, "wb") as f:
        f.write(buf.getvalue())

def split(name, n, offset):
    fine = [(k * 13 + 5) % 100 for k in range(offset, offset + n)]
    coarse = [f % 20 for f in fine]
    return {b"filenames": [f"img_{k}.png".encode() for k in range(n)], b"batch_label": f"{name} batch 1 of 1".encode(),
            b"fine_labels": fine, b"coarse_labels": coarse, b"data": images(n, offset)}

import os
os.makedirs("cifar-100-python", exist_ok=True)
os.makedirs("cifar-100-py3", exist_ok=True)
os.makedirs("cifar-100-binary", exist_ok=True)
train, test = split("training", 8, 100), split("testing", 5, 0)
dump_py2(train, "cifar-100-python/train")
dump_py2(test, "cifar-100-python/test")
dump_py2({b"fine_label_names": [s.encode() for s in FINE], b"coarse_label_names": [s.encode() for s in COARSE]},
         "cifar-100-python/meta")
with open("cifar-100-py3/test", "wb") as f:
    pickle.dump(test, f, protocol=4)
with open("cifar-100-py3/meta", "wb") as f:
    pickle.dump({b"fine_label_names": [s.encode() for s in FINE], b"coarse_label_names": [s.encode() for s in COARSE]}, f, protocol=4)
for name, d in (("train", train), ("test", test)):
    with open(f"cifar-100-binary/{name}.bin", "wb") as f:
        for k in range(len(d[b"fine_labels"])):
            f.write(bytes([d[b"coarse_labels"][k], d[b"fine_labels"][k]]) + d[b"data"][k].tobytes())
with open("cifar-100-binary/fine_label_names.txt", "w") as f:
    f.write("\n".join(FINE) + "\n")
with open("cifar-100-binary/coarse_label_names.txt", "w") as f:
    f.write("\n".join(COARSE) + "\n")

# Check the pickles load as the official ones do.
with open("cifar-100-python/test", "rb") as f:
    back = pickle.load(f, encoding="bytes")
assert (back[b"data"] == test[b"data"]).all() and back[b"fine_labels"] == test[b"fine_labels"]
print("ok", back[b"data"].shape, back[b"fine_labels"], back[b"coarse_labels"])
