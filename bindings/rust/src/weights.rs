//! What a local weights file holds, from its header alone
//! (`hub_safetensors_info_file`, `hub_gguf_info_file`).

use std::path::Path;

use crate::{ffi, Result};

/// One tensor of a safetensors file (huggingface_hub's `TensorInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SafetensorsTensor {
    pub name: String,
    /// "F32", "BF16", "F8_E4M3", "F4", ...
    pub dtype: String,
    pub shape: Vec<u64>,
    /// [begin, end) relative to the data start of its file.
    pub data_offsets: (u64, u64),
    /// Product of the shape; 1 for a scalar.
    pub parameters: u64,
    /// Sharded: the shard holding it; a single file: None.
    pub file: Option<String>,
}

/// What [`safetensors_info_file`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SafetensorsInfo {
    /// In data order; sharded: shard after shard.
    pub tensors: Vec<SafetensorsTensor>,
    /// Parameters per dtype, sorted by dtype name.
    pub parameter_count: Vec<(String, u64)>,
    pub parameter_total: u64,
    /// `__metadata__` in file order (sharded: the first shard's).
    pub metadata: Vec<(String, String)>,
    pub header_size: u64,
    /// 8 + N (single file); 0 when sharded.
    pub data_offset: u64,
    pub data_size: u64,
    pub sharded: bool,
    /// Sharded: the shard files in order of first appearance.
    pub shards: Vec<String>,
    /// Sharded: the index's `metadata.total_size`.
    pub total_size: Option<u64>,
}

impl SafetensorsInfo {
    /// huggingface_hub's `weight_map` (sharded: tensor -> shard).
    pub fn weight_map(&self) -> Vec<(&str, &str)> {
        self.tensors
            .iter()
            .filter_map(|t| t.file.as_deref().map(|f| (t.name.as_str(), f)))
            .collect()
    }
    pub fn tensor(&self, name: &str) -> Option<&SafetensorsTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Limits of the header parsers (0: the library's defaults).
#[derive(Debug, Clone, Default)]
pub struct HeaderOptions {
    max_header_bytes: u64,
    max_array_values: u64,
}

impl HeaderOptions {
    pub fn new() -> Self {
        Self::default()
    }
    /// Most header bytes read; a larger header is [`ErrorKind::Format`](crate::ErrorKind).
    pub fn max_header_bytes(mut self, n: u64) -> Self {
        self.max_header_bytes = n;
        self
    }
    /// GGUF: arrays longer than this keep their type and length only.
    pub fn max_array_values(mut self, n: u64) -> Self {
        self.max_array_values = n;
        self
    }
}

impl HeaderOptions {
    pub(crate) fn to_c(&self) -> Result<ffi::hub_header_options> {
        ffi::header_options(self.max_header_bytes, self.max_array_values)
    }
}

fn c_path(path: &Path) -> Result<std::ffi::CString> {
    ffi::cstring("path", ffi::path_bytes(path))
}

/// Read the header of a `.safetensors` file, or of every shard a
/// `*.safetensors.index.json` names. Malformed: [`ErrorKind::Format`](crate::ErrorKind);
/// unreadable: `Io`.
pub fn safetensors_info_file(path: impl AsRef<Path>) -> Result<SafetensorsInfo> {
    safetensors_info_file_with(path, &HeaderOptions::new())
}

pub fn safetensors_info_file_with(path: impl AsRef<Path>, opts: &HeaderOptions) -> Result<SafetensorsInfo> {
    let o = ffi::header_options(opts.max_header_bytes, opts.max_array_values)?;
    ffi::safetensors_info_file(&c_path(path.as_ref())?, &o)
}

/// GGUF metadata value types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GgufType {
    Uint8,
    Int8,
    Uint16,
    Int16,
    Uint32,
    Int32,
    Float32,
    Bool,
    String,
    Array,
    Uint64,
    Int64,
    Float64,
    Unknown(i32),
}

impl GgufType {
    pub fn from_raw(v: i32) -> GgufType {
        use GgufType::*;
        match v {
            0 => Uint8,
            1 => Int8,
            2 => Uint16,
            3 => Int16,
            4 => Uint32,
            5 => Int32,
            6 => Float32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => Uint64,
            11 => Int64,
            12 => Float64,
            v => Unknown(v),
        }
    }
}

/// A GGUF metadata value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    /// Not checked for UTF-8 by the format: lossy.
    Str(String),
    /// `values` is None when the array is longer than
    /// [`HeaderOptions::max_array_values`].
    Array {
        elem_type: GgufType,
        len: u64,
        values: Option<Vec<GgufValue>>,
    },
    /// A type a newer library knows.
    Unknown(GgufType),
}

impl GgufValue {
    /// Any integer type (and Bool) as u64 when it fits.
    pub fn as_u64(&self) -> Option<u64> {
        use GgufValue::*;
        match *self {
            U8(v) => Some(v.into()),
            U16(v) => Some(v.into()),
            U32(v) => Some(v.into()),
            U64(v) => Some(v),
            I8(v) => u64::try_from(v).ok(),
            I16(v) => u64::try_from(v).ok(),
            I32(v) => u64::try_from(v).ok(),
            I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One tensor info of a GGUF file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GgufTensor {
    pub name: String,
    /// Innermost first.
    pub dims: Vec<u64>,
    /// ggml type number.
    pub type_: u32,
    /// "Q4_K", "F16", ...; None if unknown.
    pub type_name: Option<String>,
    /// Relative to [`GgufInfo::data_offset`].
    pub offset: u64,
    pub parameters: u64,
}

/// What [`gguf_info_file`] read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GgufInfo {
    pub version: u32,
    pub big_endian: bool,
    pub alignment: u32,
    pub header_size: u64,
    pub data_offset: u64,
    pub parameters: u64,
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub file_type: Option<i64>,
    pub file_type_name: Option<String>,
    /// 0 when absent.
    pub context_length: u64,
    pub embedding_length: u64,
    pub block_count: u64,
    /// In file order.
    pub metadata: Vec<(String, GgufValue)>,
    pub tensors: Vec<GgufTensor>,
}

impl GgufInfo {
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Read the header of a local GGUF file (v2 or v3, either byte order).
pub fn gguf_info_file(path: impl AsRef<Path>) -> Result<GgufInfo> {
    gguf_info_file_with(path, &HeaderOptions::new())
}

pub fn gguf_info_file_with(path: impl AsRef<Path>, opts: &HeaderOptions) -> Result<GgufInfo> {
    let o = ffi::header_options(opts.max_header_bytes, opts.max_array_values)?;
    ffi::gguf_info_file(&c_path(path.as_ref())?, &o)
}

/// The name of a ggml tensor type ("Q4_K"), or None.
pub fn ggml_type_name(t: u32) -> Option<String> {
    ffi::ggml_type_name(t)
}
