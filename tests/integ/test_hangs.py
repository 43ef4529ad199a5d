#!/usr/bin/env python3
"""Nothing a server says can hold hubfetch (security audit F5): endless
error bodies, day-long Retry-After, trickled metadata."""
import os
import sys
import time
import unittest

from cli_util import DEMO, CliTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
MS_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "modelscope")


class ServerCannotHoldTest(CliTestCase):

    def timed(self, *args, timeout=40, **kw):
        t0 = time.monotonic()
        rc, out, err = self.run_cli("download", *args, timeout=timeout, **kw)
        return rc, err, time.monotonic() - t0

    def test_cdn_403_with_an_endless_body_ends_promptly(self):
        self.hub.faults([{"match": "repos/", "server": "cdn",
                          "action": {"status": 403, "endless": True}}])
        rc, err, took = self.timed(DEMO, "onnx/model.onnx")
        self.assertEqual(rc, 26, err)
        self.assertIn("HTTP 403", err)
        self.assertLess(took, 20)
        # each refusal was read no further than its first 16 KiB (plus what
        # was in flight), not for ever
        for r in self.requests("cdn"):
            self.assertLess(r["bytes"], 4 * 1024 * 1024, r)

    def test_api_error_with_an_endless_body_ends_promptly(self):
        self.hub.faults([{"match": "/api/models/", "server": "hub",
                          "action": {"status": 404, "endless": True,
                                     "headers": {"X-Error-Code": "RepoNotFound"}}}])
        rc, err, took = self.timed(DEMO)
        self.assertEqual(rc, 15, err)
        self.assertLess(took, 20)
        for r in self.requests("hub"):
            self.assertLess(r["bytes"], 4 * 1024 * 1024, r)

    def test_retry_after_of_a_day_fails_at_once(self):
        self.hub.faults([{"match": "resolve/main/config.json", "server": "hub",
                          "action": {"status": 429,
                                     "headers": {"Retry-After": "86399"}}}])
        rc, err, took = self.timed(DEMO, "config.json", timeout=30)
        self.assertEqual(rc, 20, err)
        self.assertIn("86399 s", err)
        self.assertIn("try again later", err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertLess(took, 10)

    def test_retry_after_of_a_day_on_the_cdn_fails_at_once(self):
        self.hub.faults([{"match": "repos/", "server": "cdn",
                          "action": {"status": 503,
                                     "headers": {"Retry-After": "86399"}}}])
        rc, err, took = self.timed(DEMO, "onnx/model.onnx", timeout=30)
        self.assertEqual(rc, 20, err)
        self.assertIn("86399 s", err)
        self.assertIn("onnx/model.onnx", err)
        self.assertLess(took, 10)

    def test_ratelimit_reset_of_a_day_fails_at_once(self):
        self.hub.faults([{"match": "/api/models/", "server": "hub",
                          "action": {"status": 429, "headers": {
                              "RateLimit": '"api";r=0;t=90000'}}}])
        rc, err, took = self.timed(DEMO, timeout=30)
        self.assertEqual(rc, 20, err)
        self.assertIn("90000 s", err)
        self.assertLess(took, 10)

    def test_trickled_metadata_meets_its_deadline(self):
        # 4 bytes a second passes the stall check (1 byte/s); the revision
        # info would take minutes. The deadline is 6 stall timeouts.
        self.hub.faults([{"match": "/api/models/", "server": "hub",
                          "action": {"rate": 4}}])
        rc, err, took = self.timed(DEMO, "--stall-timeout", "1", timeout=60)
        self.assertEqual(rc, 24, err)
        self.assertIn("did not answer within 6 s", err)
        self.assertLess(took, 20)


class ModelScopeEndlessTest(CliTestCase):

    ms_fixtures = MS_FIXTURES

    def setUp(self):
        super().setUp()
        self.env["MODELSCOPE_CACHE"] = os.path.join(self.tmp, "ms-cache")
        self.env["MODELSCOPE_ENDPOINT"] = self.hub.url
        for k in ("MODELSCOPE_API_TOKEN", "MODELSCOPE_DOMAIN"):
            self.env.pop(k, None)

    def test_disguised_error_with_an_endless_body_ends_promptly(self):
        # HTTP 200 with an error envelope instead of the file, that never ends
        self.hub.faults([{"match": "FilePath=config.json", "server": "hub",
                          "action": {"ms_code": 10990101007, "endless": True}}])
        t0 = time.monotonic()
        rc, out, err = self.run_cli("download", "--hub", "modelscope",
                                    "hubfetch/ms-demo", "config.json", timeout=40)
        self.assertEqual(rc, 30, err)
        self.assertLess(time.monotonic() - t0, 20)


if __name__ == "__main__":
    unittest.main(verbosity=1 if "-v" not in sys.argv else 2)
