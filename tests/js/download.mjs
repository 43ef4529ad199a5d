// Downloads a snapshot with the official JS client (@huggingface/hub) into a
// cache directory, for tests that read a cache it wrote.
import { snapshotDownload } from "@huggingface/hub";

const [hubUrl, cacheDir, repo, revision] = process.argv.slice(2);
const path = await snapshotDownload({
  repo,
  cacheDir,
  hubUrl,
  revision: revision || "main",
});
console.log(path);
