#!/usr/bin/env python3
"""Independent check of prover/tests/vectors/filecoin_commp.json, without Rust or filecoin-proofs.

Regenerates each vector's data with the generator described in README.md, fr32-pads it,
builds the sha2-256-trunc254 binary Merkle tree and compares the root with comm_p_hex, and
re-encodes piece_cid. Usage: verify_vectors.py [path/to/filecoin_commp.json]
"""
import base64
import hashlib
import json
import os
import sys


def gen(seed, n):
    """First n bytes of: block(i) = SHA-256(seed as LE u64 || i as LE u64), i = 0, 1, ..."""
    if seed is None:
        return bytes(n)
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(seed.to_bytes(8, "little") + i.to_bytes(8, "little")).digest()
        i += 1
    return bytes(out[:n])


def node(a, b):
    d = bytearray(hashlib.sha256(a + b).digest())
    d[31] &= 0x3F  # truncate to 254 bits
    return bytes(d)


def commp(data):
    u = 127
    while u < len(data):
        u *= 2
    data = data + bytes(u - len(data))  # zero fill to the unpadded piece size
    leaves = []
    for k in range(0, u, 127):  # fr32: 254 data bits + 2 zero bits per 32-byte leaf
        x = int.from_bytes(data[k:k + 127], "little")
        for j in range(4):
            leaves.append(((x >> (254 * j)) & ((1 << 254) - 1)).to_bytes(32, "little"))
    while len(leaves) > 1:
        leaves = [node(leaves[i], leaves[i + 1]) for i in range(0, len(leaves), 2)]
    return leaves[0], u // 127 * 128


def piece_cid(comm):
    # CIDv1 (0x01), fil-commitment-unsealed (0xf101), sha2-256-trunc254-padded (0x1012), 32 bytes
    raw = bytes([0x01, 0x81, 0xE2, 0x03, 0x92, 0x20, 0x20]) + comm
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "vectors", "filecoin_commp.json")
    vectors = json.load(open(path))
    bad = 0
    for v in vectors:
        comm, padded = commp(gen(v["seed"], v["size_bytes"]))
        ok = (comm.hex() == v["comm_p_hex"] and piece_cid(comm) == v["piece_cid"]
              and padded == v.get("padded_piece_size", padded))
        bad += not ok
        print(("ok  " if ok else "BAD ") + f'{v["size_bytes"]:>8} seed={v["seed"]} {v["piece_cid"]}')
    print(f"{len(vectors) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
