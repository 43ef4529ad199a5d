"""hubfetch info: a repository's facts and what its weights files hold, on
the fake hub serving tests/fixtures/weights_repo.py's repo; every number is
checked against the local-file readers (through the Python binding) or
values computed by hand from tests/fixtures/gen_weights.py, and the fake's
log shows that only header ranges were read."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cli_util import SOURCE, CliTestCase, FakeHub  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "bindings"))
from common import asan_runtime, is_sanitized  # noqa: E402

REPO = "hubfetch/weights"
MIB2 = 2 * 1024 * 1024
HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC", "")
WEIGHTS = ["big.gguf", "big.safetensors", "gemma-v2.gguf", "llama-v3.gguf",
           "sharded/model.safetensors.index.json", "single.safetensors"]


# The local-file readers, through the Python binding, in a child python:
# a sanitized library (make check-asan) needs the ASan runtime preloaded
# there, which the hubfetch program run by the tests must not get.
LOCAL_CODE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import hubfetch
kind, path = sys.argv[2], sys.argv[3]
if kind == "st":
    m = hubfetch.parse_safetensors_file(path)
    if hasattr(m, "files_metadata"):
        out = {"parameter_count": m.parameter_count, "shards": m.shards,
               "names": sorted(n for f in m.files_metadata.values() for n in f.tensors)}
    else:
        out = {"parameter_count": m.parameter_count, "metadata": m.metadata,
               "header_size": m.header_size, "names": sorted(m.tensors),
               "tensors": {n: [t.dtype, list(t.shape), list(t.data_offsets)]
                           for n, t in m.tensors.items()}}
else:
    g = hubfetch.read_gguf_file(path)
    out = {"parameter_count": g.parameter_count, "tensor_count": len(g.tensors),
           "header_size": g.header_size, "metadata": g.metadata,
           "keys": list(g.metadata)}
print(json.dumps(out))
"""


def local(kind, path):
    env = dict(os.environ)
    if is_sanitized():
        rt = asan_runtime()
        if rt is None:
            raise unittest.SkipTest("sanitized libhubfetch and no ASan runtime to preload")
        env["LD_PRELOAD"] = " ".join(filter(None, [rt, env.get("LD_PRELOAD")]))
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                     "detect_leaks=0"]))
    p = subprocess.run([sys.executable, "-c", LOCAL_CODE,
                        os.path.join(SOURCE, "bindings", "python"), kind, path],
                       capture_output=True, text=True, env=env, check=True)
    return json.loads(p.stdout)


def local_st(path):
    return local("st", path)


def local_gguf(path):
    return local("gguf", path)


class InfoTest(CliTestCase):

    @classmethod
    def setUpClass(cls):
        cls.fixtures_dir = tempfile.mkdtemp(prefix="hubfetch-info-")
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "fixtures",
                                                     "weights_repo.py"), cls.fixtures_dir],
                       check=True, stdin=subprocess.DEVNULL)
        cls.files = os.path.join(cls.fixtures_dir, "files")
        # a gated and a private repo with a weights file, alice's to read
        for name, extra in (("gated", {"gated": "manual"}), ("private", {"private": True})):
            spec = {"type": "model", "id": f"hubfetch/{name}-weights", **extra,
                    "commits": [{"refs": ["main"], "files": [
                        {"path": "single.safetensors",
                         "lfs": {"file": "files/single.safetensors"}}]}]}
            with open(os.path.join(cls.fixtures_dir, f"{name}.json"), "w") as fh:
                json.dump(spec, fh)
        tokens_path = os.path.join(cls.fixtures_dir, "tokens.json")
        with open(tokens_path) as fh:
            tokens = json.load(fh)
        tokens["hf_alice"]["repos"] += ["hubfetch/gated-weights", "hubfetch/private-weights"]
        with open(tokens_path, "w") as fh:
            json.dump(tokens, fh)
        cls.hub = FakeHub(fixtures=cls.fixtures_dir)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        shutil.rmtree(cls.fixtures_dir, ignore_errors=True)

    def info(self, *args, check=0):
        rc, out, err = self.run_cli("info", REPO, *args, check=check)
        return out, err

    def info_json(self, *args):
        out, _ = self.info(*args, "--format", "json")
        self.assertEqual(out.count("\n"), 1, "one JSON object, one line")
        return json.loads(out)

    def commit(self):
        return self.hub.fixtures.repo(REPO, "model").resolve("main")

    # ---- the repository

    def test_repo_fields(self):
        d = self.info_json()
        # one repo info, one listing: the only non-file requests
        api = [r["path"] for r in self.requests("hub") if r["path"].startswith("/api/models")]
        self.assertEqual(len(api), 2, api)
        self.assertIn("/revision/main", api[0])
        self.assertIn("recursive=true", api[1])
        c = self.commit()
        self.assertEqual(d["id"], REPO)
        self.assertEqual(d["sha"], c.sha)
        self.assertFalse(d["private"])
        self.assertIs(d["gated"], False)
        self.assertRegex(d["lastModified"], r"^\d{4}-\d\d-\d\dT")
        self.assertEqual(d["file_count"], len(c.files))
        self.assertEqual(d["total_size"], sum(len(f.read()) for f in c.files.values()))
        # what the hub says of the repo, as the text shows it too
        out, _ = self.info()
        self.assertIn(c.sha, out)
        self.assertIn(f"files             {len(c.files)},", out)

    def test_gated_and_private(self):
        for repo, private, gated in (("hubfetch/gated-weights", False, "manual"),
                                     ("hubfetch/private-weights", True, False)):
            with self.subTest(repo=repo):
                rc, out, err = self.run_cli("info", repo, "--token", "hf_alice",
                                            "--format", "json", check=0)
                d = json.loads(out)
                self.assertEqual((d["private"], d["gated"]), (private, gated))
                self.assertEqual(d["files"][0]["parameters"], 321)
                rc, out, _ = self.run_cli("info", repo, "--token", "hf_alice", check=0)
                self.assertIn(f"gated             {gated or 'no'}\n", out)
                self.assertIn(f"private           {'yes' if private else 'no'}\n", out)
        self.run_cli("info", "hubfetch/private-weights", check=15)  # no token
        self.run_cli("info", "hubfetch/gated-weights", check=18)

    def test_json_shape_and_weight_files(self):
        d = self.info_json()
        self.assertEqual([f["path"] for f in d["files"]], WEIGHTS)  # no shard on its own
        for f in d["files"]:
            with self.subTest(path=f["path"]):
                self.assertIn(f["format"], ("safetensors", "gguf"))
                self.assertEqual(sum(f["parameter_count"].values()), f["parameters"])
                self.assertIsInstance(f["metadata"], dict)
        st = [f for f in d["files"] if f["format"] == "safetensors"]
        total = {}
        for f in st:
            for k, v in f["parameter_count"].items():
                total[k] = total.get(k, 0) + v
        self.assertEqual(d["safetensors"], {"parameters": total,
                                            "total": sum(total.values())})

    # ---- safetensors

    def test_safetensors_vs_local_reader(self):
        d = self.info_json("single.safetensors", "big.safetensors",
                           "sharded/model.safetensors.index.json", "--tensors")
        for f in d["files"]:
            with self.subTest(path=f["path"]):
                local = local_st( os.path.join(self.files, f["path"]))
                self.assertEqual(f["parameter_count"], local["parameter_count"])
                self.assertEqual(f["parameters"], sum(local["parameter_count"].values()))
                names = set(local["names"])
                if f["path"].endswith(".index.json"):
                    self.assertTrue(f["sharded"])
                    self.assertEqual(f["shards"], local["shards"])
                    self.assertEqual(f["metadata"], {"format": "pt"})
                else:
                    self.assertFalse(f["sharded"])
                    self.assertEqual(f["metadata"], local["metadata"])
                    self.assertEqual(f["header_size"], local["header_size"])
                    for t in f["tensors"]:
                        self.assertEqual([t["dtype"], t["shape"], t["data_offsets"]],
                                         local["tensors"][t["name"]])
                self.assertEqual(f["tensor_count"], len(names))
                self.assertEqual({t["name"] for t in f["tensors"]}, names)
        single = d["files"][0]
        self.assertEqual(single["path"], "single.safetensors")
        self.assertEqual(single["parameters"], 321)  # gen_weights.single
        self.assertEqual(single["metadata"]["note"], "caf\u00e9")

    # ---- GGUF

    def test_gguf_vs_local_reader_and_by_hand(self):
        d = self.info_json("llama-v3.gguf", "gemma-v2.gguf", "--tensors")
        llama, gemma = d["files"]
        # by hand (gen_weights.llama, gemma)
        self.assertEqual(llama["parameters"], 577281)
        self.assertEqual(llama["parameter_count"],
                         {"F32": 1281, "Q4_K": 288000, "Q8_0": 288000})
        self.assertEqual((llama["version"], llama["architecture"], llama["name"]),
                         (3, "llama", "Tiny Llama"))
        self.assertEqual((llama["context_length"], llama["embedding_length"],
                          llama["block_count"]), (4096, 256, 2))
        self.assertEqual((llama["file_type"], llama["file_type_name"]), (15, "Q4_K_M"))
        self.assertEqual(gemma["parameters"], 17024)
        self.assertEqual(gemma["parameter_count"], {"BF16": 16384, "F16": 512, "F32": 128})
        self.assertEqual((gemma["version"], gemma["file_type_name"]), (2, "F16"))
        m = llama["metadata"]
        self.assertEqual(m["llama.rope.freq_base"], 10000.0)
        self.assertEqual(m["test.u64"], 2 ** 63 + 5)
        self.assertEqual(m["test.i64"], -(2 ** 62))
        self.assertEqual(m["test.nested"], [[1, 2, 3], ["a", "bc"], [[True, False]]])
        self.assertEqual(m["test.empty"], [])
        # a long array: its type and length only
        self.assertEqual(m["tokenizer.ggml.tokens"], {"array": "string", "length": 101})
        for f in d["files"]:
            with self.subTest(path=f["path"]):
                local = local_gguf(os.path.join(self.files, f["path"]))
                self.assertEqual(f["parameters"], local["parameter_count"])
                self.assertEqual(f["tensor_count"], local["tensor_count"])
                self.assertEqual(f["header_size"], local["header_size"])
                self.assertEqual(list(f["metadata"]), local["keys"])
                for k, v in local["metadata"].items():
                    if not isinstance(v, list) or len(v) <= 16:
                        self.assertEqual(f["metadata"][k], v, k)
        # --all: every value
        d = self.info_json("llama-v3.gguf", "--all")
        local = local_gguf(os.path.join(self.files, "llama-v3.gguf"))
        self.assertEqual(d["files"][0]["metadata"], local["metadata"])
        out, _ = self.info("llama-v3.gguf")
        self.assertIn("tokenizer.ggml.tokens = [string x 101]", out)
        self.assertIn("file type         Q4_K_M (15)", out)

    # ---- what is read

    def test_only_header_ranges_are_read(self):
        d = self.info_json()
        header_end = {}
        for f in d["files"]:
            if f["path"].endswith(".index.json"):
                continue
            header_end[f["path"]] = f["header_size"] + (8 if f["format"] == "safetensors" else 0)
        for p in ("sharded/model-00001-of-00002.safetensors",
                  "sharded/model-00002-of-00002.safetensors"):
            header_end[p] = local_st(os.path.join(self.files, p))["header_size"] + 8
        by_sha = {}
        for p in header_end:
            with open(os.path.join(self.files, p), "rb") as fh:
                by_sha[hashlib.sha256(fh.read()).hexdigest()] = p
        got = {p: 0 for p in header_end}
        for r in self.requests():
            if r["status"] not in (200, 206) or r["path"].startswith("/api/models"):
                continue
            if r["server"] == "cdn":
                path = by_sha[re.search(r"/([0-9a-f]{64})\?", r["path"]).group(1)]
            else:
                path = r["path"].split("/", 5)[5].split("?")[0]
                if path.endswith(".index.json"):
                    continue  # the index is read whole (a small git file)
                path = by_sha.get(path, path)
            self.assertIsNotNone(r["range"], r)
            end = int(r["range"].split("-")[1])
            limit = header_end[path] + MIB2
            self.assertLess(end, limit, (path, r["range"]))
            got[path] += r["bytes"]
        for p, n in got.items():
            with self.subTest(path=p):
                self.assertGreater(n, 0)
                self.assertLessEqual(n, header_end[p] + MIB2)

    def test_a_cached_file_makes_no_request(self):
        self.run_cli("download", REPO, "llama-v3.gguf", "single.safetensors", check=0)
        self.hub.clear_log()
        d = self.info_json("llama-v3.gguf", "single.safetensors")
        self.assertEqual(d["files"][0]["parameters"], 577281)
        self.assertEqual(d["files"][1]["parameters"], 321)
        paths = [r["path"] for r in self.requests()]
        self.assertEqual(len(paths), 2, paths)  # repo info and listing only
        self.assertTrue(all(p.startswith("/api/models/") for p in paths), paths)
        # --no-cache asks the hub
        self.hub.clear_log()
        self.info("llama-v3.gguf", "--no-cache")
        self.assertTrue(any("/resolve/" in r["path"] for r in self.requests()))

    def test_missing_file_and_bad_arguments(self):
        _, err = self.info("no/such.safetensors", check=17)
        self.assertIn("no/such.safetensors", err)
        _, err = self.info("config.json", check=2)
        self.assertIn("config.json", err)
        self.run_cli("info", "hubfetch/nope", check=15)
        self.info("--revision", "nope", check=16)
        self.info("--format", "yaml", check=2)

    # ---- huggingface_hub, where it is given

    @unittest.skipUnless(HFHUB_SRC, "HUB_TEST_HFHUB_SRC not set")
    def test_parameter_counts_match_huggingface_hub(self):
        # get_safetensors_metadata() reads only a root model.safetensors[.index.json];
        # parse_safetensors_file_metadata() is the same parser for any file
        d = self.info_json()
        ours = {f["path"]: f["parameter_count"] for f in d["files"]
                if f["format"] == "safetensors"}
        code = textwrap.dedent("""
            import json, sys
            from huggingface_hub import HfApi
            api = HfApi(endpoint=sys.argv[1])
            out = {}
            for name in sys.argv[2:]:
                if name.endswith(".index.json"):  # its shards, summed
                    shards = ["sharded/model-00001-of-00002.safetensors",
                              "sharded/model-00002-of-00002.safetensors"]
                else:
                    shards = [name]
                count = {}
                for shard in shards:
                    m = api.parse_safetensors_file_metadata("hubfetch/weights", shard)
                    for k, v in m.parameter_count.items():
                        count[k] = count.get(k, 0) + v
                out[name] = count
            print(json.dumps(out))
        """)
        env = dict(self.env, PYTHONPATH=HFHUB_SRC, HF_HUB_DISABLE_TELEMETRY="1")
        proc = subprocess.run(["/usr/bin/python3", "-c", code, self.hub.url, *ours],
                              capture_output=True, text=True, env=env, timeout=120)
        if proc.returncode != 0:
            self.skipTest(f"get_safetensors_metadata does not run here: {proc.stderr[-500:]}")
        self.assertEqual(json.loads(proc.stdout), ours)


if __name__ == "__main__":
    unittest.main()
