"""Tests against dyormock from Python, with the standard library only.

One dyormock per test file, started on a free port in setUpClass and
reset before each test, the way docs/ci.md describes. Run from the
repository root:

    DYORMOCK=/path/to/dyormock python3 -m unittest discover -s examples/python -v

DYORMOCK is the path of the binary (default: dyormock on PATH).
"""

import json
import os
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

DYORMOCK = os.environ.get("DYORMOCK") or "dyormock"
API = "/api/v1/account"


class Dyormock:
    """A dyormock process on a free loopback port."""

    def __init__(self):
        self._dir = tempfile.TemporaryDirectory()
        url_file = os.path.join(self._dir.name, "dyormock.url")
        self._log = open(os.path.join(self._dir.name, "dyormock.log"), "wb")
        # --exit-with-parent: if this test process dies (even by SIGKILL),
        # dyormock shuts down by itself instead of living on.
        self._proc = subprocess.Popen(
            [DYORMOCK, "--addr", "127.0.0.1:0", "--url-file", url_file,
             "--bcrypt-cost", "4", "--exit-with-parent"],
            stdout=subprocess.DEVNULL, stderr=self._log)
        # The documented wait: healthcheck reads the URL file until the
        # server answers, then prints the URL (exit 1 after 10 s).
        ready = subprocess.run(
            [DYORMOCK, "healthcheck", "--url-file", url_file, "--wait", "10s"],
            capture_output=True, text=True)
        if ready.returncode != 0:
            self.stop()
            raise RuntimeError("dyormock did not start: " + ready.stderr + self.log())
        self.url = ready.stdout.strip()

    def stop(self):
        """SIGTERM: in-flight requests finish, and it exits 0."""
        self._proc.terminate()
        code = self._proc.wait(timeout=10)
        self._log.close()
        self._dir.cleanup()
        return code

    def log(self):
        with open(self._log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def call(self, method, path, body=None, token=None):
        """One request; answers (HTTP status, the decoded envelope)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as err:
            with err:
                return err.code, json.load(err)


class DyormockTest(unittest.TestCase):
    mock = None

    @classmethod
    def setUpClass(cls):
        cls.mock = Dyormock()

    @classmethod
    def tearDownClass(cls):
        code = cls.mock.stop()
        assert code == 0, "dyormock exited %d after SIGTERM" % code

    def setUp(self):
        # Each test starts from the seeds: no sessions, faults or clock moves.
        status, _ = self.mock.call("POST", "/_mock/reset")
        self.assertEqual(status, 200)

    def login(self, username="john@API", password="honeyBunnies"):
        status, env = self.mock.call("POST", API + "/login", {"username": username, "password": password})
        self.assertEqual(status, 200, env)
        return env["result"]["token"]

    def assertError(self, answer, status, code):
        got_status, env = answer
        self.assertEqual((got_status, env["ok"], env["error"]["code"]), (status, False, code), env)

    def test_register_login_refresh_logout(self):
        status, env = self.mock.call("POST", API + "/register", {"username": "alice", "password": "password-a"})
        self.assertEqual((status, env), (200, {"ok": True, "result": {}}))
        first = self.login("alice", "password-a")

        # refresh is a GET with the refresh token as the Bearer token.
        status, env = self.mock.call("GET", API + "/refresh", token=first["refresh"])
        self.assertEqual(status, 200, env)
        second = env["result"]["token"]
        self.assertNotEqual(second["refresh"], first["refresh"])

        status, env = self.mock.call("DELETE", API + "/logout", token=second["access"])
        self.assertEqual((status, env), (200, {"ok": True, "result": {}}))
        self.assertError(self.mock.call("GET", API + "/refresh", token=second["refresh"]), 401, 401004)

    def test_reused_refresh_token_revokes_the_session(self):
        first = self.login()
        status, env = self.mock.call("GET", API + "/refresh", token=first["refresh"])
        self.assertEqual(status, 200, env)
        second = env["result"]["token"]
        # The rotated token again: reuse. It is refused, and the session
        # that descended from it is revoked too.
        self.assertError(self.mock.call("GET", API + "/refresh", token=first["refresh"]), 401, 401004)
        self.assertError(self.mock.call("GET", API + "/refresh", token=second["refresh"]), 401, 401004)

    def test_fault_answers_503_then_the_route_recovers(self):
        status, env = self.mock.call("POST", "/_mock/faults", {"route": "login", "status": 503, "times": 1})
        self.assertEqual(status, 200, env)
        self.assertError(self.mock.call("POST", API + "/login", {"username": "john@API", "password": "honeyBunnies"}), 503, 503000)
        self.login()  # the rule is used up

    def test_clock_expires_the_access_token_but_not_the_refresh_token(self):
        tokens = self.login()
        status, env = self.mock.call("POST", "/_mock/clock", {"advance": "16m"})
        self.assertEqual(status, 200, env)
        self.assertError(self.mock.call("DELETE", API + "/logout", token=tokens["access"]), 401, 401003)
        status, env = self.mock.call("GET", API + "/refresh", token=tokens["refresh"])
        self.assertEqual(status, 200, env)

    def test_minted_session_and_journal(self):
        status, env = self.mock.call("POST", "/_mock/sessions", {"username": "john@API", "access_ttl": "1s"})
        self.assertEqual(status, 200, env)
        token = env["result"]["token"]
        status, _ = self.mock.call("DELETE", API + "/logout", token=token["access"])
        self.assertEqual(status, 200)
        status, env = self.mock.call("GET", "/_mock/requests")
        self.assertEqual(status, 200, env)
        self.assertEqual([(r["method"], r["path"], r["status"]) for r in env["result"]["requests"]],
                         [("DELETE", API + "/logout", 200)])


if __name__ == "__main__":
    unittest.main()
