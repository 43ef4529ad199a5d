#!/usr/bin/env python3
"""Write the seed inputs of fuzz_parsers.c into seeds/ (first byte: parser)."""
import json
import os
import pickle

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


if __name__ == "__main__":
    main()
