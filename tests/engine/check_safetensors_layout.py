#!/usr/bin/env python3
"""Hand check (not part of CI) that a genlab checkpoint is a valid safetensors file for Python users.

    GENLAB_SAFETENSORS_SAMPLE=/tmp/sample.safetensors build/native-release/tests/engine_tests \
        --gtest_filter=Safetensors.FileRoundTrip
    /usr/bin/python3 tests/engine/check_safetensors_layout.py /tmp/sample.safetensors [more.safetensors ...]

Reads the file with an independent implementation of the format spec (8-byte little-endian u64
header size N, N bytes of UTF-8 JSON starting with '{', data_offsets relative to the byte buffer
after the header, tensors tiling that buffer exactly), checks the writer conventions of the reference
implementation (__metadata__ first with string values, tensors in name order and contiguous, header
padded with spaces to a multiple of 8), and then, when available, loads the file with the
`safetensors` library and compares; otherwise it builds torch (or numpy) arrays from the bytes.
"""
import json
import struct
import sys


def check(path):
    raw = open(path, "rb").read()
    assert len(raw) >= 8, "shorter than the 8-byte header length"
    (n,) = struct.unpack("<Q", raw[:8])
    assert n <= 100_000_000 and 8 + n <= len(raw), f"header length {n} out of range"
    text = raw[8 : 8 + n].decode("utf-8")
    assert text.startswith("{"), "header must start with '{'"
    assert n % 8 == 0 and text.rstrip(" ").endswith("}"), "header must be JSON padded with spaces to 8 bytes"
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    assert len(set(keys)) == len(keys), "duplicate keys"
    header = dict(pairs)
    meta = header.pop("__metadata__", None)
    if meta is not None:
        assert keys[0] == "__metadata__", "__metadata__ should come first (as the reference writer does)"
        assert all(isinstance(v, str) for _, v in meta), "metadata values must be strings"
        meta = dict(meta)
    data = raw[8 + n :]
    names = [k for k in keys if k != "__metadata__"]
    assert names == sorted(names), "tensors should be in name order"
    expected = 0
    arrays = {}
    for name in names:
        info = dict(header[name])
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert begin == expected, f"{name}: not contiguous"
        assert end - begin == 4 * count, f"{name}: shape {info['shape']} vs {end - begin} bytes"
        expected = end
        arrays[name] = (info["shape"], data[begin:end])
    assert expected == len(data), "tensors must cover the whole data buffer"
    print(f"{path}: spec check OK: header {n} bytes, {len(names)} tensors, {len(data)} data bytes, metadata {meta}")

    try:
        from safetensors.torch import load_file  # type: ignore

        loaded = load_file(path)
        import torch

        for name, (shape, buf) in arrays.items():
            mine = torch.frombuffer(bytearray(buf), dtype=torch.float32).reshape(shape)
            assert torch.equal(loaded[name], mine), name
        print("  safetensors library: loads the file and agrees bit for bit")
    except ImportError:
        try:
            import torch

            for name, (shape, buf) in arrays.items():
                t = torch.frombuffer(bytearray(buf), dtype=torch.float32).reshape(shape)
                print(f"  {name}: torch {tuple(t.shape)} sum={t.sum().item():.6g}")
            print("  (safetensors library not installed: checked against the format spec only)")
        except ImportError:
            import numpy as np

            for name, (shape, buf) in arrays.items():
                a = np.frombuffer(buf, dtype="<f4").reshape(shape)
                print(f"  {name}: numpy {a.shape} sum={a.sum():.6g}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        check(p)
