//! `Client::list` / `stat` / `whoami` against the fake hub and the CLI's
//! `hubfetch ls --format json`; the token file in a private HF_HOME; the
//! weight header parsers on tests/fixtures/gen_weights.py's files with the
//! numbers of tests/unit/test_weights.c.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::json::Json;
use common::{FakeHub, TempDir, DEMO, DEMO_MAIN};
use hubfetch::{Entry, EntryType, ErrorKind, GgufValue, HeaderOptions, ListOptions, RepoType};

fn hubfetch_exe() -> Option<PathBuf> {
    let exe = std::env::var_os("HUBFETCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::source_dir().join("build").join("hubfetch"));
    exe.exists().then(|| exe)
}

fn cli_ls(hub: &FakeHub, args: &[&str]) -> Option<Vec<Json>> {
    let exe = hubfetch_exe()?;
    let out = Command::new(exe)
        .arg("ls")
        .args(args)
        .args(["--format", "json", "--endpoint", &hub.url, "--proxy", ""])
        .output()
        .expect("run hubfetch");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    match Json::parse(&String::from_utf8(out.stdout).unwrap()) {
        Json::Arr(v) => Some(v),
        other => panic!("{other:?}"),
    }
}

fn opt(j: &Json, key: &str) -> Option<Json> {
    match j {
        Json::Obj(m) => m.get(key).cloned(),
        _ => None,
    }
}

fn assert_entry(e: &Entry, j: &Json) {
    assert_eq!(e.path, j.str("path"));
    let dir = j.str("type") == "directory";
    assert_eq!(e.kind, if dir { EntryType::Directory } else { EntryType::File });
    assert_eq!(e.size as i128, j.num("size"), "{}", e.path);
    assert_eq!(e.oid.as_deref(), Some(j.str("oid")));
    match (&e.lfs, opt(j, "lfs")) {
        (None, None) => {}
        (Some(l), Some(jl)) => {
            assert_eq!(l.sha256, jl.str("oid"));
            assert_eq!(l.size as i128, jl.num("size"));
            assert_eq!(l.pointer_size as i128, jl.num("pointerSize"));
        }
        other => panic!("{}: lfs {other:?}", e.path),
    }
    let xet = opt(j, "xetHash").map(|x| match x {
        Json::Str(s) => s,
        other => panic!("{other:?}"),
    });
    assert_eq!(e.xet_hash, xet);
    match (&e.last_commit, opt(j, "lastCommit")) {
        (None, None) => {}
        (Some(c), Some(jc)) => {
            assert_eq!(c.id, jc.str("id"));
            assert_eq!(c.title, jc.str("title"));
            assert_eq!(c.date, jc.str("date"));
        }
        other => panic!("{}: lastCommit {other:?}", e.path),
    }
}

#[test]
fn list_matches_the_cli_and_stat_matches_list() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("list");
    let client = hub.client(tmp.path());
    let cases: Vec<(Vec<&str>, Option<&str>, ListOptions)> = vec![
        (vec![DEMO, "-R"], None, ListOptions::new().recursive(true)),
        (vec![DEMO], None, ListOptions::new()),
        (vec![DEMO, "--expand"], None, ListOptions::new().expand(true)),
        (vec![DEMO, "onnx", "-R"], Some("onnx"), ListOptions::new().recursive(true)),
        (vec![DEMO, "--revision", "v1.0", "-R"], None, ListOptions::new().revision("v1.0").recursive(true)),
        (vec!["hubfetch/demo-data", "--repo-type", "dataset", "-R"], None,
         ListOptions::new().repo_type(RepoType::Dataset).recursive(true)),
        (vec!["hubfetch/many-files", "-R"], None, ListOptions::new().recursive(true)),
    ];
    let mut compared = false;
    for (args, path, opts) in cases {
        let repo = args[0];
        let mine: Vec<Entry> = client
            .list(repo, path, &opts)
            .expect("list")
            .collect::<Result<_, _>>()
            .expect("entries");
        assert!(!mine.is_empty());
        if let Some(cli) = cli_ls(&hub, &args) {
            compared = true;
            assert_eq!(mine.len(), cli.len(), "{args:?}");
            for (e, j) in mine.iter().zip(&cli) {
                assert_entry(e, j);
            }
        }
    }
    if !compared {
        eprintln!("skipped the CLI comparison: no hubfetch program");
    }
    let all: Vec<Entry> = client
        .list(DEMO, None, &ListOptions::new().recursive(true))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    for p in ["config.json", "onnx", "model.safetensors"] {
        let s = client.stat(DEMO, p, &ListOptions::new()).expect("stat");
        assert_eq!(Some(&s), all.iter().find(|e| e.path == p));
    }
    let st = all.iter().find(|e| e.path == "model.safetensors").unwrap();
    assert!(st.lfs.is_some() && st.xet_hash.is_some());
    let e = client.stat(DEMO, "config.json", &ListOptions::new().expand(true)).unwrap();
    assert_eq!(e.last_commit.unwrap().id, DEMO_MAIN);
    let err = client.stat(DEMO, "nope.txt", &ListOptions::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::EntryNotFound);
    // errors of the first page come from list() itself
    let kind = |r: hubfetch::Result<hubfetch::ListIter<'_>>| r.map(|_| ()).unwrap_err().kind();
    assert_eq!(kind(client.list("hubfetch/nope", None, &ListOptions::new())), ErrorKind::RepoNotFound);
    assert_eq!(kind(client.list(DEMO, None, &ListOptions::new().revision("nope"))), ErrorKind::RevisionNotFound);
    assert_eq!(kind(client.list(DEMO, Some("no/such"), &ListOptions::new())), ErrorKind::EntryNotFound);
    // dropped half-way: the C iterator is freed, the client still works
    let mut it = client.list("hubfetch/many-files", None, &ListOptions::new().recursive(true)).unwrap();
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.endpoint(), Some(hub.url.as_str()));
    drop(it);
    assert!(client.stat(DEMO, "README.md", &ListOptions::new()).is_ok());
}

#[test]
fn whoami_with_the_fakes_tokens() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("whoami");
    let me = hub.builder(tmp.path()).token("hf_alice").build().unwrap().whoami().unwrap();
    assert_eq!(me.name, "alice");
    assert_eq!(me.fullname.as_deref(), Some("Alice Liddell"));
    assert_eq!(me.type_.as_deref(), Some("user"));
    assert_eq!(me.orgs, ["hubfetch", "wonderland"]);
    assert_eq!(me.token_name.as_deref(), Some("alice-laptop"));
    assert_eq!(me.token_role.as_deref(), Some("read"));
    let e = hub.builder(tmp.path()).no_token().build().unwrap().whoami().unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Auth, 0));
    let e = hub.builder(tmp.path()).token("hf_nobody").build().unwrap().whoami().unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Auth, 401));
}

#[test]
fn token_save_and_remove_in_a_private_hf_home() {
    // the only test of this program touching HF_* variables
    let tmp = TempDir::new("token");
    let home = tmp.path().join("hf home");
    std::env::remove_var("HF_TOKEN_PATH");
    std::env::set_var("HF_HOME", &home);
    let path = hubfetch::token_path().unwrap();
    assert_eq!(path, home.join("token"));
    assert!(!hubfetch::remove_token().unwrap());
    hubfetch::save_token(" hf_alice\n", Some("alice-laptop")).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hf_alice");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let stored = std::fs::read_to_string(home.join("stored_tokens")).unwrap();
    assert!(stored.contains("[alice-laptop]") && stored.contains("hf_alice"), "{stored}");
    assert_eq!(hubfetch::save_token("", None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert!(hubfetch::remove_token().unwrap());
    assert!(!path.exists() && !home.join("stored_tokens").exists());
}

fn weights() -> (TempDir, PathBuf) {
    let tmp = TempDir::new("weights");
    let st = Command::new(common::python())
        .arg(common::source_dir().join("tests/fixtures/gen_weights.py"))
        .arg(tmp.path())
        .status()
        .expect("gen_weights.py");
    assert!(st.success());
    let p = tmp.path().to_path_buf();
    (tmp, p)
}

#[test]
fn safetensors_headers() {
    let (_tmp, dir) = weights();
    let i = hubfetch::safetensors_info_file(dir.join("single.safetensors")).unwrap();
    assert_eq!(i.tensors.len(), 25);
    assert_eq!(i.parameter_count.len(), 22);
    let count = |d: &str| i.parameter_count.iter().find(|(k, _)| k == d).unwrap().1;
    assert_eq!((count("F32"), count("BF16"), count("F6_E2M3"), count("F4"), count("C64")), (9, 136, 16, 8, 8));
    assert_eq!(i.parameter_total, 321);
    assert_eq!(i.parameter_count[0].0, "BF16");
    assert!(!i.sharded && i.shards.is_empty() && i.total_size.is_none());
    assert_eq!((i.tensors[0].name.as_str(), i.tensors[0].dtype.as_str()), ("model.bool.weight", "BOOL"));
    assert_eq!(i.tensors[0].data_offsets, (0, 8));
    assert!(i.tensors[1].file.is_none());
    let s = i.tensor("model.scalar").unwrap();
    assert!(s.shape.is_empty() && s.parameters == 1);
    let e = i.tensor("model.empty").unwrap();
    assert_eq!((e.shape.clone(), e.parameters), (vec![0, 3], 0));
    assert_eq!(i.metadata[1], ("note".to_string(), "caf\u{e9}".to_string()));
    let size = std::fs::metadata(dir.join("single.safetensors")).unwrap().len();
    assert_eq!(i.data_offset, 8 + i.header_size);
    assert_eq!(i.data_offset + i.data_size, size);

    let r = hubfetch::safetensors_info_file(dir.join("sharded/model.safetensors.index.json")).unwrap();
    assert!(r.sharded);
    assert_eq!(r.shards, ["model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors"]);
    assert_eq!((r.tensors.len(), r.parameter_total, r.total_size, r.data_size), (5, 3088, Some(6208), 6208));
    assert_eq!(r.tensors[0].name, "model.layers.1.mlp.weight");
    assert_eq!(r.tensors[0].file.as_deref(), Some("model-00002-of-00002.safetensors"));
    assert_eq!(r.weight_map().len(), 5);

    std::fs::write(dir.join("bad.safetensors"), b"\x10\0\0\0\0\0\0\0{\"a\":1}        ").unwrap();
    let e = hubfetch::safetensors_info_file(dir.join("bad.safetensors")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.message().contains("bad.safetensors"), "{}", e.message());
    let e = hubfetch::safetensors_info_file(dir.join("absent.safetensors")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}

fn check_llama(g: &hubfetch::GgufInfo) {
    assert_eq!((g.version, g.metadata.len(), g.tensors.len()), (3, 26, 14));
    assert_eq!(g.architecture.as_deref(), Some("llama"));
    assert_eq!(g.name.as_deref(), Some("Tiny Llama"));
    assert_eq!((g.file_type, g.file_type_name.as_deref()), (Some(15), Some("Q4_K_M")));
    assert_eq!((g.context_length, g.embedding_length, g.block_count), (4096, 256, 2));
    assert_eq!((g.parameters, g.alignment), (577281, 32));
    match g.get("tokenizer.ggml.tokens").unwrap() {
        GgufValue::Array { len: 101, values: Some(v), .. } => {
            assert_eq!(v[1], GgufValue::Str("<s>".into()));
            assert_eq!(v[100], GgufValue::Str("\u{e9}t\u{e9}".into()));
        }
        other => panic!("{other:?}"),
    }
    match g.get("tokenizer.ggml.scores").unwrap() {
        GgufValue::Array { values: Some(v), .. } => assert_eq!(v[5], GgufValue::F32(-5.0)),
        other => panic!("{other:?}"),
    }
    assert_eq!(g.get("test.u8"), Some(&GgufValue::U8(200)));
    assert_eq!(g.get("test.i8"), Some(&GgufValue::I8(-100)));
    assert_eq!(g.get("test.u16"), Some(&GgufValue::U16(60000)));
    assert_eq!(g.get("test.i16"), Some(&GgufValue::I16(-30000)));
    assert_eq!(g.get("test.u32"), Some(&GgufValue::U32(4000000000)));
    assert_eq!(g.get("test.i32"), Some(&GgufValue::I32(-2000000000)));
    assert_eq!(g.get("test.f32"), Some(&GgufValue::F32(0.5)));
    assert_eq!(g.get("test.bool"), Some(&GgufValue::Bool(true)));
    assert_eq!(g.get("test.string").and_then(|v| v.as_str()), Some("hello"));
    assert_eq!(g.get("test.u64"), Some(&GgufValue::U64(9223372036854775813)));
    assert_eq!(g.get("test.i64"), Some(&GgufValue::I64(-4611686018427387904)));
    assert_eq!(g.get("test.f64"), Some(&GgufValue::F64(-2.25)));
    match g.get("test.nested").unwrap() {
        GgufValue::Array { len: 3, values: Some(v), .. } => {
            match &v[0] {
                GgufValue::Array { values: Some(x), .. } => assert_eq!(x[2], GgufValue::U16(3)),
                o => panic!("{o:?}"),
            }
            match &v[2] {
                GgufValue::Array { values: Some(x), .. } => match &x[0] {
                    GgufValue::Array { values: Some(b), .. } => {
                        assert_eq!(b, &[GgufValue::Bool(true), GgufValue::Bool(false)])
                    }
                    o => panic!("{o:?}"),
                },
                o => panic!("{o:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    let t = &g.tensors[0];
    assert_eq!((t.name.as_str(), t.type_name.as_deref(), t.dims.clone()), ("token_embd.weight", Some("Q4_K"), vec![256, 101]));
    assert_eq!((t.offset, t.parameters), (0, 25856));
    assert_eq!((g.tensors[2].type_name.as_deref(), g.tensors[2].offset), (Some("Q8_0"), 15584));
    assert_eq!(g.tensors[13].dims.len(), 4);
}

#[test]
fn gguf_headers() {
    let (_tmp, dir) = weights();
    let g = hubfetch::gguf_info_file(dir.join("llama-v3.gguf")).unwrap();
    check_llama(&g);
    assert!(!g.big_endian);
    let be = hubfetch::gguf_info_file(dir.join("llama-v3-be.gguf")).unwrap();
    check_llama(&be);
    assert!(be.big_endian);
    assert_eq!(be.metadata, g.metadata);
    let short = hubfetch::gguf_info_file_with(dir.join("llama-v3.gguf"), &HeaderOptions::new().max_array_values(100)).unwrap();
    assert!(matches!(short.get("tokenizer.ggml.tokens"), Some(GgufValue::Array { len: 101, values: None, .. })));
    assert_eq!(short.get("test.nested"), g.get("test.nested"));
    let gem = hubfetch::gguf_info_file(dir.join("gemma-v2.gguf")).unwrap();
    assert_eq!((gem.version, gem.architecture.as_deref(), gem.file_type_name.as_deref()), (2, Some("gemma"), Some("F16")));
    assert_eq!((gem.context_length, gem.embedding_length, gem.block_count, gem.parameters), (8192, 128, 1, 17024));
    assert_eq!(gem.tensors[1].type_name.as_deref(), Some("BF16"));
    assert_eq!(hubfetch::gguf_info_file(dir.join("old-v1.gguf")).unwrap_err().kind(), ErrorKind::Format);
    assert_eq!(hubfetch::gguf_info_file(dir.join("absent.gguf")).unwrap_err().kind(), ErrorKind::Io);
    assert_eq!(hubfetch::ggml_type_name(12).as_deref(), Some("Q4_K"));
    assert_eq!(hubfetch::ggml_type_name(4), None);
}
