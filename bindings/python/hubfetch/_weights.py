"""What a local weights file holds, from its header alone
(hub_safetensors_info_file, hub_gguf_info_file): tensors, dtypes, shapes,
parameter counts, metadata; the tensor data is never read.

parse_safetensors_file() returns huggingface_hub's types
(utils/_safetensors.py): SafetensorsFileMetadata (metadata, tensors:
{name: TensorInfo(dtype, shape, data_offsets, parameter_count)},
parameter_count: {dtype: n}) for a `.safetensors` file, and for a
`*.safetensors.index.json` a SafetensorsRepoMetadata (metadata, sharded,
weight_map, files_metadata, parameter_count) as get_safetensors_metadata()
builds it for a sharded repository. Added: header_size, data_offset,
data_size (and, for an index, shards and total_size).

read_gguf_file() returns a GGUFFile: the facts (version, architecture,
name, file_type, context_length, ...), `metadata` ({key: Python value};
arrays as lists, an array longer than max_array_values as a
GGUFArraySummary(type, length)) and `tensors` (GGUFTensorInfo).

Everything is copied out of the C result, which is freed before return.
A malformed header raises FileFormatError (SafetensorsParsingError), an
unreadable file CacheError (an OSError).
"""

from __future__ import annotations

import collections
import ctypes
import functools
import operator
import os
from dataclasses import dataclass, field
from typing import Optional

from . import _lib
from ._lib import E, UINT64_MAX


def _text(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


# ---- safetensors: huggingface_hub's classes ------------------------------------

@dataclass
class TensorInfo:
    """huggingface_hub's TensorInfo; parameter_count is derived from the
    shape (1 for a scalar)."""
    dtype: str
    shape: list
    data_offsets: tuple
    parameter_count: int = field(init=False)

    def __post_init__(self):
        try:
            self.parameter_count = functools.reduce(operator.mul, self.shape)
        except TypeError:
            self.parameter_count = 1  # scalar value has no shape


@dataclass
class SafetensorsFileMetadata:
    """huggingface_hub's SafetensorsFileMetadata, plus where the header
    and the data are (header_size: N, the JSON's length; data_offset: 8 + N;
    data_size: bytes of tensor data)."""
    metadata: dict
    tensors: dict
    parameter_count: dict = field(init=False)
    header_size: Optional[int] = None
    data_offset: Optional[int] = None
    data_size: Optional[int] = None

    def __post_init__(self):
        count = collections.defaultdict(int)
        for tensor in self.tensors.values():
            count[tensor.dtype] += tensor.parameter_count
        self.parameter_count = dict(count)


@dataclass
class SafetensorsRepoMetadata:
    """huggingface_hub's SafetensorsRepoMetadata for a sharded model read
    through its index: metadata is the index's `metadata` as far as the
    library reads it ({"total_size": n}, {} without one), weight_map
    tensor -> shard, files_metadata shard -> SafetensorsFileMetadata.
    Added: shards (in the order of first appearance in weight_map),
    total_size (None without one), data_size, header_size (sums over the
    shards)."""
    metadata: Optional[dict]
    sharded: bool
    weight_map: dict
    files_metadata: dict
    parameter_count: dict = field(init=False)
    shards: list = field(default_factory=list)
    total_size: Optional[int] = None
    data_size: Optional[int] = None
    header_size: Optional[int] = None

    def __post_init__(self):
        count = collections.defaultdict(int)
        for meta in self.files_metadata.values():
            for dtype, n in meta.parameter_count.items():
                count[dtype] += n
        self.parameter_count = dict(count)


def _header_options(lib, last_error, max_header_bytes=None, max_array_values=None):
    o = _lib.hub_header_options()
    if lib.hub_header_options_init(ctypes.byref(o), _lib.HEADER_OPTIONS_VERSION) != E.OK:
        raise last_error()
    o.max_header_bytes = int(max_header_bytes or 0)
    o.max_array_values = int(max_array_values or 0)
    return o


def _local_safetensors(lib, path):
    return lambda out, opts: lib.hub_safetensors_info_file(out, os.fsencode(path), opts)


def _safetensors_raw(lib, last_error, fetch, opts):
    """(the copied fields, list of tensors) of one hub_safetensors_info_file()
    or hub_safetensors_info_remote(): fetch(&out, &opts) -> rc makes the call
    (it raises itself when it must copy the error out under a lock)."""
    out = ctypes.POINTER(_lib.hub_safetensors_info)()
    if fetch(ctypes.byref(out), ctypes.byref(opts)) != E.OK:
        raise last_error()
    try:
        i = out.contents
        tensors = []
        for n in range(i.tensor_count):
            t = i.tensors[n]
            tensors.append((_text(t.name), _text(t.dtype),
                            [t.shape[d] for d in range(t.ndim)],
                            (t.offset_begin, t.offset_end), t.parameters,
                            _text(t.file)))
        info = dict(
            metadata={_text(i.metadata_keys[n]): _text(i.metadata_values[n])
                      for n in range(i.metadata_count)},
            dtypes={_text(i.dtypes[n].dtype): i.dtypes[n].parameters
                    for n in range(i.dtype_count)},
            parameter_total=i.parameter_total, header_size=i.header_size,
            data_offset=i.data_offset, data_size=i.data_size, sharded=bool(i.sharded),
            shards=[_text(i.shards[n]) for n in range(i.shard_count)],
            total_size=None if i.total_size == UINT64_MAX else i.total_size)
        return info, tensors
    finally:
        lib.hub_safetensors_info_free(out)


def _file_metadata(info, tensors):
    return SafetensorsFileMetadata(
        metadata=info["metadata"],
        tensors={name: TensorInfo(dtype=dtype, shape=shape, data_offsets=offsets)
                 for name, dtype, shape, offsets, _n, _f in tensors},
        header_size=info["header_size"], data_offset=info["data_offset"],
        data_size=info["data_size"])


def parse_safetensors_file(lib, last_error, path, max_header_bytes=None):
    opts = _header_options(lib, last_error, max_header_bytes)
    folder = os.path.dirname(os.fspath(path))
    return parse_safetensors(
        lib, last_error, opts, _local_safetensors(lib, path),
        lambda shard: _local_safetensors(lib, os.path.join(folder, shard)))


def parse_safetensors(lib, last_error, opts, fetch, fetch_shard):
    """A SafetensorsFileMetadata, or for an index a SafetensorsRepoMetadata:
    fetch makes the call for the file, fetch_shard(name) the one for a
    shard named in the index (local or remote alike)."""
    info, tensors = _safetensors_raw(lib, last_error, fetch, opts)
    if not info["sharded"]:
        return _file_metadata(info, tensors)
    # The index's result holds the first shard's __metadata__ only: each
    # shard is read again on its own for its exact SafetensorsFileMetadata
    # (the library checked that the names are plain relative paths).
    files = {}
    for shard in info["shards"]:
        files[shard] = _file_metadata(*_safetensors_raw(
            lib, last_error, fetch_shard(shard), opts))
    return SafetensorsRepoMetadata(
        metadata={} if info["total_size"] is None else {"total_size": info["total_size"]},
        sharded=True,
        weight_map={name: f for name, _d, _s, _o, _n, f in tensors},
        files_metadata=files, shards=info["shards"], total_size=info["total_size"],
        data_size=info["data_size"], header_size=info["header_size"])


# ---- GGUF ---------------------------------------------------------------------

@dataclass(frozen=True)
class GGUFArraySummary:
    """An array longer than max_array_values: its element type (a GGUF
    type name, "STRING", "UINT32", ...) and length, not its values."""
    type: str
    length: int


@dataclass(frozen=True)
class GGUFTensorInfo:
    name: str
    shape: tuple  # dims, innermost first, as GGUF stores them
    type: int  # ggml type number
    type_name: Optional[str]  # "Q4_K", "F16", ... (None: unknown to the library)
    offset: int  # relative to GGUFFile.data_offset
    parameter_count: int


@dataclass(frozen=True)
class GGUFFile:
    """What read_gguf_file() read. The facts are None when their key is
    absent or of another type (file_type_name also when unknown)."""
    version: int
    big_endian: bool
    alignment: int
    header_size: int
    data_offset: int
    parameter_count: int
    architecture: Optional[str]
    name: Optional[str]
    file_type: Optional[int]
    file_type_name: Optional[str]
    context_length: Optional[int]
    embedding_length: Optional[int]
    block_count: Optional[int]
    metadata: dict  # key -> value, in file order
    metadata_types: dict  # key -> GGUF type name ("ARRAY" for arrays)
    tensors: list


_T = {name: n for n, name in enumerate(_lib.GGUF_TYPES)}
_CTYPES = {_T["UINT8"]: ctypes.c_uint8, _T["INT8"]: ctypes.c_int8,
           _T["UINT16"]: ctypes.c_uint16, _T["INT16"]: ctypes.c_int16,
           _T["UINT32"]: ctypes.c_uint32, _T["INT32"]: ctypes.c_int32,
           _T["FLOAT32"]: ctypes.c_float, _T["BOOL"]: ctypes.c_uint8,
           _T["UINT64"]: ctypes.c_uint64, _T["INT64"]: ctypes.c_int64,
           _T["FLOAT64"]: ctypes.c_double}
_UNSIGNED = {_T[n] for n in ("UINT8", "UINT16", "UINT32", "UINT64")}
_SIGNED = {_T[n] for n in ("INT8", "INT16", "INT32", "INT64")}


def _type_name(t):
    return _lib.GGUF_TYPES[t] if 0 <= t < len(_lib.GGUF_TYPES) else str(t)


def _gguf_string(ptr, length):
    raw = ctypes.string_at(ptr, length) if length else b""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # not UTF-8 (GGUF does not check values): the bytes


def _gguf_value(v):
    t = v.type
    if t in _UNSIGNED:
        return v.u
    if t in _SIGNED:
        return v.i
    if t == _T["BOOL"]:
        return bool(v.u)
    if t in (_T["FLOAT32"], _T["FLOAT64"]):
        return v.f
    if t == _T["STRING"]:
        return _gguf_string(v.str, v.len)
    if t != _T["ARRAY"]:
        raise ValueError(f"hubfetch: GGUF value type {t} is unknown to this binding")
    et, n = v.elem_type, v.count
    if not v.kept:
        return GGUFArraySummary(type=_type_name(et), length=n)
    if n == 0:
        return []
    if et == _T["STRING"]:
        return [_gguf_string(v.strings[k], v.lengths[k]) for k in range(n)]
    if et == _T["ARRAY"]:
        return [_gguf_value(v.items[k]) for k in range(n)]
    ctype = _CTYPES.get(et)
    if ctype is None:
        raise ValueError(f"hubfetch: GGUF array type {et} is unknown to this binding")
    values = list((ctype * n).from_address(v.data))
    return [bool(x) for x in values] if et == _T["BOOL"] else values


def read_gguf_file(lib, last_error, path, max_array_values=None, max_header_bytes=None):
    opts = _header_options(lib, last_error, max_header_bytes, max_array_values)
    return read_gguf(lib, last_error, opts, lambda out, o: lib.hub_gguf_info_file(
        out, os.fsencode(path), o))


def read_gguf(lib, last_error, opts, fetch):
    """The GGUFFile of hub_gguf_info_file() or hub_gguf_info_remote():
    fetch(&out, &opts) -> rc makes the call."""
    out = ctypes.POINTER(_lib.hub_gguf_info)()
    if fetch(ctypes.byref(out), ctypes.byref(opts)) != E.OK:
        raise last_error()
    try:
        i = out.contents
        metadata, types = {}, {}
        for n in range(i.kv_count):
            kv = i.kvs[n]
            key = _text(kv.key)
            metadata[key] = _gguf_value(kv.value)
            types[key] = _type_name(kv.value.type)
        tensors = []
        for n in range(i.tensor_count):
            t = i.tensors[n]
            tensors.append(GGUFTensorInfo(
                name=_text(t.name), shape=tuple(t.dims[d] for d in range(t.n_dims)),
                type=t.type, type_name=_text(t.type_name), offset=t.offset,
                parameter_count=t.parameters))
        return GGUFFile(
            version=i.version, big_endian=bool(i.big_endian), alignment=i.alignment,
            header_size=i.header_size, data_offset=i.data_offset,
            parameter_count=i.parameters, architecture=_text(i.architecture),
            name=_text(i.name), file_type=None if i.file_type < 0 else i.file_type,
            file_type_name=_text(i.file_type_name),
            context_length=i.context_length or None,
            embedding_length=i.embedding_length or None,
            block_count=i.block_count or None,
            metadata=metadata, metadata_types=types, tensors=tensors)
    finally:
        lib.hub_gguf_info_free(out)


def ggml_type_name(lib, t):
    return _text(lib.hub_ggml_type_name(t))
