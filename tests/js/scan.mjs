// Prints what the official JS client (@huggingface/hub) sees in a cache
// directory, as JSON, for tests/integ/test_js_interop.py.
import { scanCacheDir } from "@huggingface/hub";
import { basename } from "node:path";

const info = await scanCacheDir(process.argv[2]);
const out = {
  size: info.size,
  warnings: info.warnings.map((w) => String(w.message ?? w)),
  repos: info.repos.map((r) => ({
    id: r.id.name,
    type: r.id.type,
    size: r.size,
    filesCount: r.filesCount,
    revisions: r.revisions
      .map((v) => ({
        commit: v.commitOid,
        refs: [...v.refs].sort(),
        size: v.size,
        files: v.files
          .map((f) => ({ name: basename(f.path), size: f.blob.size }))
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      }))
      .sort((a, b) => (a.commit < b.commit ? -1 : 1)),
  })),
};
console.log(JSON.stringify(out));
