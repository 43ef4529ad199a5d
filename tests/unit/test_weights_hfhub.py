#!/usr/bin/env python3
"""Parameter counts of hub_safetensors_info_file() against huggingface_hub's.

The files of tests/fixtures/gen_weights.py (one file with every dtype, a
sharded model) are read by libhubfetch (ctypes over $HUBFETCH_LIB) and by
huggingface_hub's own local parsing (`parse_local_safetensors_file_metadata`,
`get_local_safetensors_metadata`); per-dtype counts, totals, tensor names,
shapes, offsets and metadata must agree.

huggingface_hub comes from the environment or from its sources
($HUB_TEST_HFHUB_SRC, the `src` folder of a checkout). Without httpx (as on
Debian) its hf_api module cannot be imported: the four functions above are
then taken from hf_api.py's source as they are and run over its own
utils/_safetensors.py and constants.py. Exit 77 (skip) without either.
"""
import ast
import ctypes
import importlib.util
import json
import os
import struct
import sys
import tempfile
from pathlib import Path
from typing import Union

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bindings"))
from common import sanitized_library_skip  # noqa: E402
FUNCS = ("_get_safetensors_metadata_size", "_parse_safetensors_header",
         "parse_local_safetensors_file_metadata", "get_local_safetensors_metadata")


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def hfhub_functions():
    src = os.environ.get("HUB_TEST_HFHUB_SRC")
    if src:
        sys.path.insert(0, src)
    try:
        import huggingface_hub as hh
        return hh.parse_local_safetensors_file_metadata, hh.get_local_safetensors_metadata
    except ImportError:
        pass
    if not src:
        return None
    pkg = os.path.join(src, "huggingface_hub")
    api = os.path.join(pkg, "hf_api.py")
    if not os.path.exists(api):
        return None
    st = load_module("hfh_safetensors", os.path.join(pkg, "utils", "_safetensors.py"))
    constants = load_module("hfh_constants", os.path.join(pkg, "constants.py"))
    tree = ast.parse(open(api, encoding="utf-8").read())
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FUNCS]
    if len(found) != len(FUNCS):
        return None  # another version: nothing to compare with

    class SafetensorsParsingError(Exception):
        pass

    class NotASafetensorsRepoError(Exception):
        pass

    ns = {"struct": struct, "json": json, "Path": Path, "Union": Union,
          "constants": constants, "SafetensorsParsingError": SafetensorsParsingError,
          "NotASafetensorsRepoError": NotASafetensorsRepoError,
          "SafetensorsFileMetadata": st.SafetensorsFileMetadata,
          "SafetensorsRepoMetadata": st.SafetensorsRepoMetadata,
          "TensorInfo": st.TensorInfo}
    exec(compile(ast.Module(body=found, type_ignores=[]), api, "exec"), ns)
    return ns["parse_local_safetensors_file_metadata"], ns["get_local_safetensors_metadata"]


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_char_p),
                ("shape", ctypes.POINTER(ctypes.c_uint64)), ("ndim", ctypes.c_size_t),
                ("offset_begin", ctypes.c_uint64), ("offset_end", ctypes.c_uint64),
                ("parameters", ctypes.c_uint64), ("file", ctypes.c_char_p)]


class DtypeCount(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_char_p), ("parameters", ctypes.c_uint64)]


class Info(ctypes.Structure):
    _fields_ = [("tensors", ctypes.POINTER(Tensor)), ("tensor_count", ctypes.c_size_t),
                ("dtypes", ctypes.POINTER(DtypeCount)), ("dtype_count", ctypes.c_size_t),
                ("parameter_total", ctypes.c_uint64),
                ("metadata_keys", ctypes.POINTER(ctypes.c_char_p)),
                ("metadata_values", ctypes.POINTER(ctypes.c_char_p)),
                ("metadata_count", ctypes.c_size_t), ("header_size", ctypes.c_uint64),
                ("data_offset", ctypes.c_uint64), ("data_size", ctypes.c_uint64),
                ("sharded", ctypes.c_int), ("shards", ctypes.POINTER(ctypes.c_char_p)),
                ("shard_count", ctypes.c_size_t), ("total_size", ctypes.c_uint64)]


def ours(lib, path):
    p = ctypes.POINTER(Info)()
    rc = lib.hub_safetensors_info_file(ctypes.byref(p), path.encode(), None)
    assert rc == 0, (path, rc)
    i = p.contents
    out = {
        "params": {i.dtypes[k].dtype.decode(): i.dtypes[k].parameters for k in range(i.dtype_count)},
        "total": i.parameter_total,
        "tensors": {},
        "metadata": {i.metadata_keys[k].decode(): i.metadata_values[k].decode()
                     for k in range(i.metadata_count)},
    }
    for k in range(i.tensor_count):
        t = i.tensors[k]
        out["tensors"][t.name.decode()] = (
            t.dtype.decode(), [t.shape[d] for d in range(t.ndim)],
            (t.offset_begin, t.offset_end), t.parameters,
            t.file.decode() if t.file else None)
    lib.hub_safetensors_info_free(p)
    return out


def main():
    funcs = hfhub_functions()
    if not funcs:
        print("huggingface_hub not available (set HUB_TEST_HFHUB_SRC): skipped")
        return 77
    parse_file, parse_repo = funcs
    sanitized_library_skip()  # an ASan library needs its runtime preloaded
    lib = ctypes.CDLL(os.environ["HUBFETCH_LIB"])
    lib.hub_safetensors_info_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    lib.hub_safetensors_info_free.argtypes = [ctypes.POINTER(Info)]
    gen = load_module("gen_weights", os.path.join(HERE, "..", "fixtures", "gen_weights.py"))
    with tempfile.TemporaryDirectory() as tmp:
        sys.argv = ["gen_weights.py", tmp]
        gen.main()
        # one file: every dtype, a scalar (1 parameter), an empty tensor
        single = os.path.join(tmp, "single.safetensors")
        theirs = parse_file(single)
        mine = ours(lib, single)
        assert mine["params"] == dict(theirs.parameter_count), (mine["params"], theirs.parameter_count)
        assert mine["total"] == sum(theirs.parameter_count.values())
        assert mine["metadata"] == theirs.metadata
        assert set(mine["tensors"]) == set(theirs.tensors)
        for name, t in theirs.tensors.items():
            m = mine["tensors"][name]
            assert (m[0], m[1], m[2], m[3]) == (t.dtype, t.shape, tuple(t.data_offsets),
                                                t.parameter_count), (name, m, t)
        # sharded, through the index
        repo = parse_repo(os.path.join(tmp, "sharded"))
        mine = ours(lib, os.path.join(tmp, "sharded", "model.safetensors.index.json"))
        assert repo.sharded
        assert mine["params"] == dict(repo.parameter_count), (mine["params"], repo.parameter_count)
        assert mine["total"] == sum(repo.parameter_count.values())
        assert {n: t[4] for n, t in mine["tensors"].items()} == repo.weight_map
    print("parameter counts agree with huggingface_hub")
    return 0


if __name__ == "__main__":
    sys.exit(main())
