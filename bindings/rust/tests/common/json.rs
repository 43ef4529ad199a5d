//! Just enough JSON for the CLI's output (no dependencies).
#![allow(dead_code)]

use std::collections::BTreeMap;


#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(i128),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(text: &str) -> Json {
        let b = text.as_bytes();
        let mut i = 0;
        let v = Json::value(b, &mut i);
        Json::ws(b, &mut i);
        assert_eq!(i, b.len(), "trailing bytes in JSON");
        v
    }
    pub fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    pub fn value(b: &[u8], i: &mut usize) -> Json {
        Json::ws(b, i);
        match b[*i] {
            b'{' => {
                *i += 1;
                let mut m = BTreeMap::new();
                loop {
                    Json::ws(b, i);
                    if b[*i] == b'}' {
                        *i += 1;
                        return Json::Obj(m);
                    }
                    let k = match Json::value(b, i) {
                        Json::Str(s) => s,
                        other => panic!("key {other:?}"),
                    };
                    Json::ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    m.insert(k, Json::value(b, i));
                    Json::ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'[' => {
                *i += 1;
                let mut v = Vec::new();
                loop {
                    Json::ws(b, i);
                    if b[*i] == b']' {
                        *i += 1;
                        return Json::Arr(v);
                    }
                    v.push(Json::value(b, i));
                    Json::ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'"' => {
                *i += 1;
                let mut out = Vec::new();
                while b[*i] != b'"' {
                    if b[*i] == b'\\' {
                        *i += 1;
                        match b[*i] {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'r' => out.push(b'\r'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'u' => {
                                let hex = std::str::from_utf8(&b[*i + 1..*i + 5]).unwrap();
                                let c = u32::from_str_radix(hex, 16).unwrap();
                                let mut buf = [0u8; 4];
                                let s = char::from_u32(c)
                                    .unwrap_or('\u{fffd}')
                                    .encode_utf8(&mut buf);
                                out.extend_from_slice(s.as_bytes());
                                *i += 4;
                            }
                            c => out.push(c),
                        }
                    } else {
                        out.push(b[*i]);
                    }
                    *i += 1;
                }
                *i += 1;
                Json::Str(String::from_utf8(out).unwrap())
            }
            b't' => {
                *i += 4;
                Json::Bool(true)
            }
            b'f' => {
                *i += 5;
                Json::Bool(false)
            }
            b'n' => {
                *i += 4;
                Json::Null
            }
            _ => {
                let start = *i;
                while *i < b.len() && (b[*i] == b'-' || b[*i].is_ascii_digit()) {
                    *i += 1;
                }
                let s = std::str::from_utf8(&b[start..*i]).unwrap();
                Json::Num(s.parse().unwrap_or_else(|_| panic!("number {s:?}")))
            }
        }
    }
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("no {key}")),
            other => panic!("{other:?} is no object"),
        }
    }
    pub fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Json::Str(s) => s,
            other => panic!("{key}: {other:?}"),
        }
    }
    pub fn num(&self, key: &str) -> i128 {
        match self.get(key) {
            Json::Num(n) => *n,
            other => panic!("{key}: {other:?}"),
        }
    }
    pub fn arr(&self, key: &str) -> &[Json] {
        match self.get(key) {
            Json::Arr(v) => v,
            other => panic!("{key}: {other:?}"),
        }
    }
    pub fn strings(&self, key: &str) -> Vec<String> {
        self.arr(key)
            .iter()
            .map(|v| match v {
                Json::Str(s) => s.clone(),
                other => panic!("{key}: {other:?}"),
            })
            .collect()
    }
}

