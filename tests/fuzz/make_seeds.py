#!/usr/bin/env python3
"""Write the seed inputs of fuzz_parsers.c into seeds/ (first byte: parser)."""
import json
import os
import pickle
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHA1 = "fc20600ae1408d085a8cfd1dd6fdf150fdb9823c"


def seed(name, parser, data):
    with open(os.path.join(HERE, "seeds", name), "wb") as fh:
        fh.write(bytes([parser]) + data)


def main():
    os.makedirs(os.path.join(HERE, "seeds"), exist_ok=True)
    # 0: .msc / .mdl pickles as the classic ModelScope SDK writes them
    seed("msc-list", 0, pickle.dumps([{"Path": "a.txt", "Revision": "master"},
                                      {"Path": "b/c.bin", "Revision": "v1"}], protocol=4))
    seed("mdl-dict", 0, pickle.dumps({"id": "org/name"}, protocol=2))
    seed("msc-odd", 0, pickle.dumps([{"Path": "x", "Revision": None, "n": 5}], protocol=3))
    # 1: a Hub tree page
    tree = [{"type": "file", "path": "config.json", "oid": SHA1, "size": 136},
            {"type": "directory", "path": "onnx", "oid": SHA1, "size": 0},
            {"type": "file", "path": "m.bin", "oid": SHA1, "size": 5,
             "lfs": {"oid": "a" * 64, "size": 5, "pointerSize": 130}, "xetHash": "b" * 64}]
    seed("tree-page", 1, json.dumps(tree).encode())
    # 2: repo info
    seed("repo-info", 2, json.dumps({"id": "Org/Name", "sha": "3" * 40}).encode())
    # 3: a ModelScope listing, 4: its revisions
    listing = {"Code": 200, "Success": True, "Data": {"Files": [
        {"Name": "config.json", "Path": "config.json", "Revision": "abc",
         "Sha256": "a" * 64, "Size": 12, "Type": "blob", "IsLFS": False}]}}
    seed("ms-listing", 3, json.dumps(listing).encode())
    revisions = {"Code": 200, "Success": True, "Data": {"RevisionMap": {
        "Branches": [{"Revision": "master", "CreatedAt": 1700000000}], "Tags": []}}}
    seed("ms-revisions", 4, json.dumps(revisions).encode())
    # 5: base URL, newline, Location; 6: pattern, newline, path
    seed("url-relative", 5, b"https://h.co/a/b?x=1\n../c/./d?y#z")
    seed("url-authority", 5, b"http://[::1]:80/p\n//other.host/x")
    seed("pattern-star", 6, b"*.json\ndir/config.json")
    seed("pattern-class", 6, b"[!a-c]?/**\nb/x")
    # 7: trees/<commit>.json as huggingface_hub writes it (indent=1)
    trees = {"format_version": 1, "files": {
        "config.json": {"size": 136, "blob_id": SHA1},
        "m.bin": {"size": 5, "blob_id": SHA1, "lfs_sha256": "a" * 64, "lfs_size": 5,
                  "xet_hash": "b" * 64}}}
    seed("trees-json", 7, json.dumps(trees, indent=1).encode())
    # 8: a local dir's .metadata: commit, etag, timestamp
    seed("local-metadata", 8, ("3" * 40 + "\n" + SHA1 + "\n1700000000.5\n").encode())
    # 9: response headers as curl hands them over, one per line
    seed("headers-lfs", 9, (
        "Location: https://cdn.example/repos/aa/bb/" + "a" * 64 + "?X-Amz-Signature=x\r\n"
        'X-Linked-Etag: "' + "a" * 64 + '"\r\nX-Linked-Size: 33554432\r\n'
        'ETag: W/"29-abcdef"\r\nX-Repo-Commit: ' + "3" * 40 + "\r\n"
        'Link: <https://h.co/api/x/xet-read-token/main>; rel="xet-auth", '
        '<https://h.co/next?cursor=a>; rel="next"\r\n'
        'RateLimit: "resolvers";r=0;t=12\r\n\r\n').encode())
    seed("headers-error", 9, (
        "Content-Range: bytes 0-99/1000\r\nContent-Length: 100\r\n"
        "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\nX-Error-Code: GatedRepo\r\n"
        "X-Error-Message: \x1b]0;title\x07 access \xc2\x9b restricted \xff\r\n").encode("latin-1"))
    weights_seeds()


def st_file(header, data_len):
    raw = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(data_len)


def weights_seeds():
    sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
    import gen_weights as gw  # noqa: E402
    # 10: safetensors headers (and shard indexes)
    ok = {"__metadata__": {"format": "pt"},
          "a": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]},
          "b": {"dtype": "F4", "shape": [4], "data_offsets": [12, 14]},
          "c": {"dtype": "F32", "shape": [], "data_offsets": [14, 18]}}
    seed("st-valid", 10, st_file(ok, 18))
    bad = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    seed("st-overlap", 10, st_file(bad, 12))
    seed("st-index", 10, json.dumps({"metadata": {"total_size": 18}, "weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}).encode())
    # 11: GGUF headers, both byte orders, every value type
    for name, end in (("gguf-le", "<"), ("gguf-be", ">")):
        g = gw.Gguf(end, 3)
        g.kv("general.architecture", gw.STR, "llama")
        g.kv("general.alignment", gw.U32, 32)
        g.kv("llama.context_length", gw.U32, 2048)
        g.kv("t.f64", gw.F64, 1.5)
        g.kv("t.i8", gw.I8, -3)
        g.kv("t.tokens", gw.ARR, (gw.STR, ["a", "bc", "d"]))
        g.kv("t.nested", gw.ARR, (gw.ARR, [(gw.U16, [1, 2]), (gw.BOOL, [True])]))
        g.tensor("w", [32, 2], 0)
        g.tensor("q", [256], 12)
        path = os.path.join(HERE, "seeds", name + ".tmp")
        g.write(path)
        with open(path, "rb") as fh:
            data = fh.read()
        os.remove(path)
        seed(name, 11, data[:1024])
    v2 = gw.Gguf("<", 2)
    v2.kv("general.file_type", gw.U32, 15)
    v2.kv("k", gw.ARR, (gw.U64, [2 ** 61]))
    seed("gguf-v2", 11, b"GGUF" + v2.p("I", 2) + v2.p("Q", 0) + v2.p("Q", 2) + b"".join(v2.kvs))


if __name__ == "__main__":
    main()
