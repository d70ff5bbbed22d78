#!/usr/bin/python3
"""Write the .npy interop fixtures for tests/Data/NpyTests.cs with Debian's numpy (python3-numpy 1.24.2).

Run from anywhere:  /usr/bin/python3 tests/Fixtures/npy/make_fixtures.py
It rewrites every file below in this script's folder; the output is deterministic (rerun -> identical bytes).

Files numpy wrote, read back by the tests to exact values:
  f4_3x2.npy, f8_3x2.npy          float32 / float64 (3, 2): VALUES_2D (incl. -0.0, subnormal, max, 1/3)
  i4_7.npy, i8_7.npy              int32 / int64 (7,): VALUES_1D (negative, gapped, int32 extremes)
  i4_2x5.npy                      int32 (2, 5): two labelings, as the anchor *_pairs_k*.npy files
  f4_3x2_v1.npy / _v2 / _v3       the f4 (3, 2) array with np.lib.format.write_array(version=(1|2|3, 0))
  f4_0x4.npy                      float32 (0, 4): no rows
  i8_big_3.npy                    int64 (3,) with 2**40: does not fit int32 labels

Header fixtures (hdr_*.bin): only the bytes numpy writes before the data, for comparing our header byte for byte:
  hdr_<descr>_<shape>.bin for the shapes in HEADER_SHAPES and every supported descr.

Bad files, each must be rejected with InvalidDataException naming the file:
  bad_magic.npy            f4_3x2.npy with the first byte changed
  bad_version.npy          f4_3x2.npy with major version 4
  bad_dtype_f4_big.npy     numpy-written '>f4' (big-endian)
  bad_dtype_u2.npy         numpy-written '<u2' (uint16)
  bad_fortran.npy          numpy-written Fortran-order float32 (3, 2)
  bad_truncated_data.npy   f4_3x2.npy without its last 5 bytes
  bad_truncated_header.npy the first 40 bytes of f4_3x2.npy (the header says 118 bytes follow)
  bad_truncated_prefix.npy the first 7 bytes of f4_3x2.npy (magic, then the file ends)
"""
import io
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))

VALUES_2D = [[0.5, -1.25], [3.4028234663852886e38, 1.401298464324817e-45], [-0.0, 1.0 / 3.0]]
VALUES_1D = [0, -1, 7, 123456, -2147483648, 2147483647, 3]
PAIRS = [[0, 0, 1, 1, -1], [5, 5, 9, 9, 5]]

# (shape, note): every supported descr gets a header fixture for each shape.
HEADER_SHAPES = [
    (3, 2),
    (10000, 512),
    (7,),
    (0, 4),
    (),                                                    # 0-d: no growth padding
    (50000, 1408),
    (2, 10000),
    (12, 3, 4),
    # numpy pads with a full 64 spaces (padlen = 64, never 0) when the header is already aligned: this 11-D
    # shape was found by search (numpy must be able to allocate it); no 1-D or 2-D shape can hit it
    (0, 1, 1, 1, 1, 1, 1, 100, 1000, 1000, 1000),
]
DESCRS = ["<f4", "<f8", "<i4", "<i8"]


def path(name):
    return os.path.join(HERE, name)


def save(name, array, version=None):
    with open(path(name), "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)


def header_bytes(descr, shape):
    """numpy's bytes before the data, taken from a real write_array call (data of zeros is cut off)."""
    array = np.zeros(shape, dtype=descr)
    buf = io.BytesIO()
    npformat.write_array(buf, array, allow_pickle=False)
    raw = buf.getvalue()
    return raw[: len(raw) - array.nbytes]


def main():
    f4 = np.array(VALUES_2D, dtype="<f4")
    save("f4_3x2.npy", f4)
    save("f8_3x2.npy", np.array(VALUES_2D, dtype="<f8"))
    save("i4_7.npy", np.array(VALUES_1D, dtype="<i4"))
    save("i8_7.npy", np.array(VALUES_1D, dtype="<i8"))
    save("i4_2x5.npy", np.array(PAIRS, dtype="<i4"))
    for v in (1, 2, 3):
        save(f"f4_3x2_v{v}.npy", f4, version=(v, 0))
    save("f4_0x4.npy", np.zeros((0, 4), dtype="<f4"))
    save("i8_big_3.npy", np.array([1, 2 ** 40, -5], dtype="<i8"))

    for descr in DESCRS:
        for shape in HEADER_SHAPES:
            tag = "x".join(str(s) for s in shape) if shape else "scalar"
            with open(path(f"hdr_{descr[1:]}_{tag}.bin"), "wb") as f:
                f.write(header_bytes(descr, shape))

    good = open(path("f4_3x2.npy"), "rb").read()
    with open(path("bad_magic.npy"), "wb") as f:
        f.write(b"\x94" + good[1:])
    with open(path("bad_version.npy"), "wb") as f:
        f.write(good[:6] + b"\x04" + good[7:])
    save("bad_dtype_f4_big.npy", np.array(VALUES_2D, dtype=">f4"))
    save("bad_dtype_u2.npy", np.array([1, 2, 3], dtype="<u2"))
    fortran = np.asfortranarray(f4)
    assert fortran.flags.f_contiguous and not fortran.flags.c_contiguous
    save("bad_fortran.npy", fortran)
    with open(path("bad_truncated_data.npy"), "wb") as f:
        f.write(good[:-5])
    with open(path("bad_truncated_header.npy"), "wb") as f:
        f.write(good[:40])
    with open(path("bad_truncated_prefix.npy"), "wb") as f:
        f.write(good[:7])

    print(f"numpy {np.__version__}: wrote fixtures in {HERE}")


if __name__ == "__main__":
    main()
