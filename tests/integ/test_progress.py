#!/usr/bin/env python3
"""What people see: the JSON progress stream (its schema, for GUIs), the
progress bar in a real terminal (tmux, narrow and resized), and no escape
codes when stderr is not a terminal."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import unittest

from cli_util import DEMO, DEMO_MAIN, HUBFETCH, CliTestCase

PHASES = {"resolve", "download", "verify", "done", "cached", "failed"}
JOB_KEYS = {"v": int, "type": str, "phase": str, "file_count": int, "files_done": int,
            "bytes": int, "total": int, "rate": int, "final": bool}
FILE_KEYS = {"file": str, "file_index": int}


class JsonProgressTest(CliTestCase):

    def events(self, *args):
        rc, out, err = self.run_cli("download", *args, "--progress", "json")
        lines = [line for line in err.splitlines() if line.strip()]
        events = [json.loads(line) for line in lines]  # every line is JSON
        return out, events

    def check_schema(self, e):
        for key, kind in JOB_KEYS.items():
            self.assertIsInstance(e[key], kind, key)
        self.assertEqual(e["v"], 1)
        self.assertIn(e["type"], ("job", "file"))
        self.assertIn(e["phase"], PHASES)
        self.assertTrue(e["eta"] is None or isinstance(e["eta"], (int, float)))
        if e["type"] == "file":
            for key, kind in FILE_KEYS.items():
                self.assertIsInstance(e[key], kind, key)
            self.assertLess(e["file_index"], e["file_count"])
            for key in ("file_bytes", "file_total"):
                self.assertTrue(e[key] is None or isinstance(e[key], int))
            self.assertTrue(e["endpoint"] is None or isinstance(e["endpoint"], str))

    def test_schema_and_ordering(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"rate": 4_000_000}}])
        out, events = self.events(DEMO)
        self.assertEqual(out.strip(), os.path.join(self.repo_dir(), "snapshots", DEMO_MAIN))
        for e in events:
            if e["type"] == "log":
                continue
            self.check_schema(e)
        self.assertEqual(events[0]["type"], "job")
        self.assertEqual(events[0]["phase"], "resolve")
        last = events[-1]
        self.assertEqual((last["type"], last["phase"], last["final"]), ("job", "done", True))
        self.assertEqual(sum(e["final"] for e in events), 1)
        self.assertEqual(last["bytes"], last["total"])
        self.assertEqual(last["files_done"], last["file_count"], 10)
        done = [e["bytes"] for e in events]
        self.assertEqual(done, sorted(done))  # never goes back
        finished = {e["file"] for e in events if e["type"] == "file" and e["phase"] == "done"}
        self.assertEqual(len(finished), 10)
        # in-between events while bytes flow, with a rate
        self.assertTrue(any(e["phase"] == "download" and 0 < e["bytes"] < e["total"]
                            for e in events))
        self.assertTrue(any(e["rate"] > 0 for e in events))
        # every big file in flight gets its share of the throttled events
        moving = {e["file"] for e in events if e["type"] == "file"
                  and e["phase"] == "download" and 0 < e["file_bytes"] < e["file_total"]}
        self.assertEqual(moving, {"model.safetensors", "onnx/model.onnx"})
        # which endpoint served each file (the empty one needed none)
        self.assertTrue(all(e["endpoint"] == self.hub.url for e in events
                            if e["type"] == "file" and e["phase"] == "done"
                            and e["file_total"]))

    def test_cached_files_and_failures_are_reported(self):
        self.download(DEMO, "--include", "*.json")
        out, events = self.events(DEMO, "--include", "*.json")
        phases = {e["phase"] for e in events if e["type"] == "file"}
        self.assertEqual(phases, {"cached"})
        out, events = self.events("hubfetch/nope")
        self.assertEqual(events[-2]["phase"], "failed")
        self.assertTrue(events[-2]["final"])
        # even the error is a JSON line, for a GUI to show
        self.assertEqual(events[-1]["type"], "error")
        self.assertEqual((events[-1]["code"], events[-1]["exit"]), ("ENOREPO", 15))
        self.assertIn("not found", events[-1]["message"])

    def test_answers_from_the_cache_report_every_file(self):
        # a pinned commit and --offline never list the repo: the files are
        # still announced, as cached, and the display ends at 100%
        self.download(DEMO, "--include", "*.json")
        for extra in (("--revision", DEMO_MAIN), ("--offline",)):
            out, events = self.events(DEMO, "--include", "*.json", *extra)
            cached = {e["file"] for e in events
                      if e["type"] == "file" and e["phase"] == "cached"}
            self.assertEqual(len(cached), 4, extra)
            last = events[-1]
            self.assertEqual((last["phase"], last["final"]), ("done", True))
            self.assertEqual(last["files_done"], last["file_count"], extra)
            self.assertEqual(last["bytes"], last["total"], extra)
            self.assertGreater(last["total"], 0)

    def test_usage_errors_and_warnings_are_json_too(self):
        rc, out, err = self.run_cli("download", DEMO, "--bogus", "--progress", "json")
        self.assertEqual(rc, 2)
        (line,) = err.splitlines()
        e = json.loads(line)
        self.assertEqual((e["type"], e["code"], e["exit"]), ("error", "EINVAL", 2))
        self.assertIn("--bogus", e["message"])
        out, events = self.events(DEMO, "config.json", "--include", "*.json")
        warnings = [e for e in events if e["type"] == "log" and e["level"] == "warning"]
        self.assertEqual(len(warnings), 1)
        self.assertIn("ignored", warnings[0]["message"])

    def test_no_escape_codes_when_not_a_terminal(self):
        for mode in ("auto", "bar"):
            rc, out, err = self.run_cli("download", DEMO, "--progress", mode,
                                        "--force-download", check=0)
            self.assertNotIn("\033", err, mode)


def tmux_available():
    return shutil.which("tmux") is not None


class TerminalBarTest(CliTestCase):
    """The bar drawn in a real terminal emulator, read back from its screen."""

    def setUp(self):
        super().setUp()
        if not tmux_available():
            if os.environ.get("HUB_REQUIRE_TMUX"):
                self.fail("tmux is not installed")
            self.skipTest("tmux not installed")
        self.sock = f"hubfetch-test-{os.getpid()}"
        self.addCleanup(subprocess.run, ["tmux", "-L", self.sock, "kill-server"],
                        capture_output=True)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True,
                              text=True, check=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "bar").rstrip("\n").split("\n")

    def test_bar_redraws_in_place_narrow_and_resized(self):
        # slow enough (16 connections x 1 MB/s: about 2 s) that frames follow the resize
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"rate": 1_000_000}}])
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items()
                       if k in ("HF_HUB_CACHE", "HF_ENDPOINT", "HOME"))
        # lines above the bar: when the terminal narrows it rewraps them and
        # the bar together, and the rows they take stay on screen
        pidfile = os.path.join(self.tmp, "pid")
        cmd = (f"seq 8; env {env} {shlex.quote(HUBFETCH)} download {DEMO} & "
               f"echo $! > {shlex.quote(pidfile)}; wait $!; echo EXIT=$?; sleep 60")
        self.tmux("new-session", "-d", "-s", "bar", "-x", "60", "-y", "20", cmd)
        frames = []
        resized = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lines = self.screen()
            frames.append(lines)
            if any(line.startswith("EXIT=") for line in lines):
                break
            if not resized and any("files" in line for line in lines):
                time.sleep(0.5)
                frames.append(self.screen())
                # Resize while the CLI is stopped and its output drained: a
                # frame in flight during the resize was drawn for the old
                # width, which no program can correct for afterwards.
                with open(pidfile) as fh:
                    pid = int(fh.read())
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.3)
                self.tmux("resize-window", "-t", "bar", "-x", "34", "-y", "20")
                time.sleep(0.2)
                os.kill(pid, signal.SIGCONT)
                resized = True
                after_resize = frames[-1]
            time.sleep(0.1)
        self.assertTrue(resized, "the bar never showed")
        final = self.screen()
        self.assertIn("EXIT=0", final)
        drawn = [f for f in frames if any("files" in line for line in f)]
        self.assertTrue(drawn)
        for f in drawn:
            text = "\n".join(f)
            self.assertNotIn("[2K", text)  # escape codes are interpreted, not shown
            # redrawn in place: one summary line per frame, not a scroll
            self.assertEqual(sum(" files" in line for line in f), 1, text)
        # a frame while bytes flow: a bar and the active file beneath it
        busy = [f for f in drawn if any("model.safetensors" in line for line in f)]
        self.assertTrue(busy)
        self.assertTrue(any("[" in line and "%" in line for f in busy for line in f))
        # frames drawn after the resize, over lines the terminal rewrapped
        self.assertGreater(len(frames) - frames.index(after_resize), 3)
        # after the resize nothing is wider than the terminal
        width_ok = [f for f in frames[-10:]]
        for f in width_ok:
            for line in f:
                self.assertLessEqual(len(line), 60)
        final_text = "\n".join(final)
        self.assertIn("10/10 files", final_text)
        self.assertIn("100%", final_text)
        self.assertIn(os.path.join("snapshots", DEMO_MAIN), final_text.replace("\n", ""))
        after = [line for line in final if line and "files" in line]
        self.assertTrue(all(len(line) <= 34 for line in after), after)


if __name__ == "__main__":
    unittest.main()
