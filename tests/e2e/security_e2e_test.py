#!/usr/bin/python3
"""End to end: dim across machines, secured (SPEC section 6). Real processes, real
certificates made both by `dim cert` and by the `openssl` command line: mutual TLS, node
identity, users with tokens and roles, isolation, SIGHUP revocation, rate limits, the
audit log, and each refusal with the message and exit code dim(1) documents."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import MODELS, DimTestCase, hospitals  # noqa: E402

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"
ROOT = "root-token-0123456789abcdef0"


def sha256_hex(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


class SecureTestCase(DimTestCase):

    def setUp(self):
        super().setUp()
        self.pki = self.path("pki")
        self.run_ok("cert", "init", self.pki)
        self.issue("orchestrator", "orch", "--ip", "127.0.0.1", "--dns", "localhost")
        for node in ("node-a", "node-b"):
            self.issue("node", node, "--ip", "127.0.0.1")
        self.issue("user", "carol")
        self.issue("admin", "root")
        self.tokens = self.path("tokens")
        # bob's token is kept only as its digest.
        self.write(self.tokens, f"# users\n{ALICE} alice user\nsha256:{sha256_hex(BOB)} bob user\n"
                                f"{ROOT} root admin\n")

    def write(self, path, text):
        with open(path, "w") as f:
            f.write(text)

    def run_ok(self, *args):
        r = self.dim(*args)
        self.assertEqual(r.returncode, 0, f"dim {args}: {r.stdout}{r.stderr}")
        return r

    def issue(self, role, name, *extra):
        self.run_ok("cert", "issue", self.pki, "--role", role, name, *extra)

    def crt(self, name, pki=None):
        return os.path.join(pki or self.pki, name + ".crt")

    def key(self, name, pki=None):
        return os.path.join(pki or self.pki, name + ".key")

    def tls(self, name, pki=None, ca=None):
        return ["--tls-cert", self.crt(name, pki), "--tls-key", self.key(name, pki),
                "--tls-ca", ca or self.crt("ca", pki)]

    def start_secure(self, extra=(), nodes=("node-a", "node-b"), pki=None, models=MODELS,
                     more_data=None):
        orch = self.start_orchestrator(extra=[*self.tls("orch", pki), "--auth-tokens", self.tokens,
                                              "--audit-log", self.path("audit.log"), *extra])
        h = hospitals()
        for node, site in zip(nodes, ("a", "b")):
            self.start_daemon(node, {"default": h[site], **(more_data or {})}, models=models,
                              orchestrator=orch, extra=self.tls(node, pki))
        return orch

    def as_user(self, token, *args, server):
        env = dict(self.env)
        env["DIM_TOKEN"] = token
        env["DIM_TLS_CA"] = self.crt("ca")
        return subprocess.run([self.dim_bin(), "--server", server.address, *args],
                              capture_output=True, text=True, env=env, timeout=60)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def dim_bin(self):
        from dim_harness import DIM
        return DIM

    def audit(self):
        with open(self.path("audit.log")) as f:
            return [json.loads(line) for line in f]

    def submit(self, token, orch, *extra, model="heart_risk"):
        r = self.as_user(token, "submit", "--pattern", "collaborative", "--model", model,
                         "--nodes", "node-a,node-b", "-q", *extra, server=orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout.strip()

    def wait_nodes_tls(self, orch, nodes):
        self.env["DIM_TLS_CA"] = self.crt("ca")
        self.env["DIM_TOKEN"] = ROOT
        self.wait_for_nodes(orch, nodes)


class MutualTlsTest(SecureTestCase):

    def test_job_completes_over_mutual_tls_with_dim_cert(self):
        orch = self.start_secure()
        self.wait_nodes_tls(orch, ["node-a", "node-b"])
        r = self.as_user(ALICE, "-o", "json", "submit", "--pattern", "collaborative", "--model",
                         "heart_risk", "--nodes", "node-a,node-b", "--wait", server=orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["state"], doc["user_id"]), ("COMPLETED", "alice"))
        # A client certificate authenticates as well as a token: carol is a user.
        env = dict(self.env)
        env.pop("DIM_TOKEN")
        r = subprocess.run([self.dim_bin(), "--server", orch.address, "-o", "json", "submit",
                            "--pattern", "collaborative", "--model", "heart_risk", "--nodes",
                            "node-a", "--wait", *self.tls("carol")],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["user_id"], "carol")
        lines = [e for e in self.audit() if e["method"] == "SubmitJob"]
        self.assertEqual([(e["identity"], e["role"], e["outcome"]) for e in lines],
                         [("alice", "user", "OK"), ("carol", "user", "OK")])
        registered = sorted(e["node_id"] for e in self.audit() if e["method"] == "RegisterNode")
        self.assertEqual(registered, ["node-a", "node-b"])
        # The orchestrator's log says how it is secured.
        self.assertIn("security: mutual TLS; users authenticate (3 tokens", orch.log())

    def test_refusals_name_their_cause(self):
        orch = self.start_secure(nodes=("node-a",))
        self.wait_nodes_tls(orch, ["node-a"])
        env = {k: v for k, v in self.env.items() if not k.startswith("DIM_T")}
        run = lambda *a: subprocess.run([self.dim_bin(), "--server", orch.address, *a],
                                        capture_output=True, text=True, env=env, timeout=60)
        # A plaintext client against a TLS server.
        r = run("ls")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("if it serves TLS, give --tls-ca", r.stderr)
        # A client that trusts another CA.
        other = self.path("other")
        self.run_ok("cert", "init", other)
        self.run_ok("cert", "issue", other, "--role", "admin", "root")
        self.run_ok("cert", "issue", other, "--role", "node", "node-b", "--ip", "127.0.0.1")
        r = run("--tls-ca", self.crt("ca", other), "--token", ROOT, "ls")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("certificate verify failed", r.stderr)
        # A client certificate from another CA: refused in the handshake.
        r = run(*self.tls("root", other, ca=self.crt("ca")), "ls")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("did not accept this client's certificate", r.stderr)
        # A certificate of another role: a node is not a user.
        r = run(*self.tls("node-a"), "ls")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("'node-a' has role node: ListJobs needs a user or an admin", r.stderr)
        # No credential at all, over TLS.
        r = run("--tls-ca", self.crt("ca"), "ls")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("UNAUTHENTICATED", r.stderr)
        # A token that is not one.
        r = run("--tls-ca", self.crt("ca"), "--token", "not-a-token-of-anyone", "ls")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("the token is not valid", r.stderr)
        # A daemon whose certificate another CA signed never joins.
        self.start_daemon("node-b", {"default": hospitals()["b"]}, orchestrator=orch,
                          extra=self.tls("node-b", other, ca=self.crt("ca")))
        time.sleep(1.5)
        nodes = self.dim_json("health", server=orch)["nodes"]
        self.assertEqual([n["node_id"] for n in nodes], ["node-a"])
        # A service without TLS on a non-loopback address refuses to start.
        r = self.dim("orchestrator", "serve", "--listen", "0.0.0.0:0", "--db", self.path("x.db"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("is not a loopback address, and this service has no TLS", r.stderr)
        self.assertIn("--insecure", r.stderr)

    def test_node_identity_is_its_certificate(self):
        orch = self.start_secure(nodes=("node-a",))
        self.wait_nodes_tls(orch, ["node-a"])
        import grpc
        o_pb2, o_grpc, d_pb2, d_grpc = self.grpc_stubs()

        def channel(name):
            creds = grpc.ssl_channel_credentials(
                root_certificates=self.read(self.crt("ca")),
                private_key=self.read(self.key(name)),
                certificate_chain=self.read(self.crt(name)))
            return grpc.secure_channel(orch.address, creds)

        # node-a's certificate registering as node-b: refused, logged, audited, not listed.
        stub = o_grpc.OrchestratorStub(channel("node-a"))
        with self.assertRaises(grpc.RpcError) as e:
            stub.RegisterNode(o_pb2.RegisterNodeRequest(node_id="node-b", address="127.0.0.1:9",
                                                        max_concurrent_jobs=1), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("the certificate of node 'node-a' cannot act as node 'node-b'",
                      e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            stub.Heartbeat(o_pb2.HeartbeatRequest(node_id="node-b"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual([n["node_id"] for n in self.dim_json("health", server=orch)["nodes"]],
                         ["node-a"])
        self.assertIn("RegisterNode from", orch.log())
        refused = [e for e in self.audit() if e["method"] == "RegisterNode" and e["outcome"] != "OK"]
        self.assertEqual([(e["identity"], e["node_id"], e["outcome"]) for e in refused],
                         [("node-a", "node-b", "PERMISSION_DENIED")])
        # A user's certificate cannot register a node at all.
        with self.assertRaises(grpc.RpcError) as e:
            o_grpc.OrchestratorStub(channel("carol")).RegisterNode(
                o_pb2.RegisterNodeRequest(node_id="carol", address="127.0.0.1:9"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

        # A client calling a daemon's SubmitJob directly: refused, as a user or with no
        # certificate; the daemon's health stays open.
        daemon_addr = self.dim_json("health", server=orch)["nodes"][0]["address"]
        for who in ("carol", "root"):
            creds = grpc.ssl_channel_credentials(
                root_certificates=self.read(self.crt("ca")),
                private_key=self.read(self.key(who)),
                certificate_chain=self.read(self.crt(who)))
            d = d_grpc.DaemonStub(grpc.secure_channel(daemon_addr, creds))
            with self.assertRaises(grpc.RpcError) as e:
                d.SubmitJob(d_pb2.SubmitJobRequest(job_id="x", model_id="heart_risk"), timeout=10)
            self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
            self.assertIn("takes tasks only from its orchestrator", e.exception.details())
        anonymous = d_grpc.DaemonStub(grpc.secure_channel(
            daemon_addr, grpc.ssl_channel_credentials(self.read(self.crt("ca")))))
        with self.assertRaises(grpc.RpcError) as e:
            anonymous.DescribeNode(d_pb2.DescribeNodeRequest(), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(anonymous.GetHealth(d_pb2.GetHealthRequest(), timeout=10).node_id, "node-a")

    def test_a_daemon_refuses_another_nodes_certificate(self):
        orch = self.start_secure(nodes=())
        r = self.dim("daemon", "serve", "--node-id", "node-b", "--listen", "127.0.0.1:0",
                     "--models", MODELS, "--orchestrator", orch.address, *self.tls("node-a"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("is node 'node-a''s certificate, but --node-id is 'node-b'", r.stderr)


class OpensslCertificatesTest(SecureTestCase):
    """Certificates a site's IT makes with plain openssl, following CN = name, OU = role."""

    def openssl(self, *args):
        r = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=self.site)
        self.assertEqual(r.returncode, 0, r.stderr)

    def site_cert(self, name, role, ip=True, dates=None):
        self.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", name + ".key")
        self.openssl("req", "-new", "-key", name + ".key", "-subj",
                     f"/C=CH/O=Hospital IT/OU={role}/CN={name}", "-out", name + ".csr")
        self.write(os.path.join(self.site, name + ".ext"),
                   "extendedKeyUsage=serverAuth,clientAuth\n"
                   + ("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if ip else ""))
        if dates is None:
            self.openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey",
                         "ca-key.pem", "-CAcreateserial", "-days", "30", "-sha256",
                         "-extfile", name + ".ext", "-out", name + ".crt")
        else:
            self.openssl("ca", "-batch", "-config", "ca.cnf", "-in", name + ".csr", "-out",
                         name + ".crt", "-startdate", dates[0], "-enddate", dates[1],
                         "-extfile", name + ".ext", "-notext")

    def setUp(self):
        super().setUp()
        self.site = self.path("site")
        os.makedirs(self.site)
        self.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", "ca-key.pem")
        self.openssl("req", "-x509", "-new", "-key", "ca-key.pem", "-subj",
                     "/C=CH/O=Hospital IT/CN=Hospital Root CA", "-days", "30", "-sha256",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem")
        self.write(os.path.join(self.site, "ca.cnf"),
                   "[ca]\ndefault_ca=site\n[site]\ndir=.\ndatabase=index.txt\nnew_certs_dir=.\n"
                   "serial=serial\ndefault_md=sha256\npolicy=any\ncertificate=ca.pem\n"
                   "private_key=ca-key.pem\nunique_subject=no\n"
                   "[any]\ncommonName=supplied\norganizationalUnitName=optional\n"
                   "organizationName=optional\ncountryName=optional\n")
        self.write(os.path.join(self.site, "index.txt"), "")
        self.write(os.path.join(self.site, "serial"), "1000\n")
        self.site_cert("orch", "orchestrator")
        self.site_cert("node-a", "node")
        self.site_cert("node-b", "node")
        self.site_cert("dana", "admin", ip=False)
        self.site_cert("old", "user", ip=False, dates=("20200101000000Z", "20200201000000Z"))
        os.rename(os.path.join(self.site, "ca.pem"), os.path.join(self.site, "ca.crt"))

    def test_job_completes_with_openssl_certificates_and_expired_one_is_refused(self):
        orch = self.start_secure(pki=self.site)
        self.assertIn("mutual TLS", orch.log())
        env = {k: v for k, v in self.env.items() if not k.startswith("DIM_T")}
        env.update(DIM_TLS_CA=self.crt("ca", self.site), DIM_TLS_CERT=self.crt("dana", self.site),
                   DIM_TLS_KEY=self.key("dana", self.site))
        self.env = env
        self.wait_for_nodes(orch, ["node-a", "node-b"])
        doc = self.dim_json("submit", "--pattern", "collaborative", "--model", "heart_risk",
                            "--nodes", "node-a,node-b", "--wait", server=orch)
        self.assertEqual((doc["state"], doc["user_id"]), ("COMPLETED", "dana"))
        shown = self.dim_json("cert", "show", self.crt("node-a", self.site))
        self.assertEqual((shown["name"], shown["role"], shown["ips"], shown["dns"]),
                         ("node-a", "node", ["127.0.0.1"], ["localhost"]))
        self.assertEqual(shown["issuer"], "CN=Hospital Root CA,O=Hospital IT,C=CH")
        # An expired certificate: refused before it is even sent, naming why.
        r = self.dim("--tls-cert", self.crt("old", self.site), "--tls-key",
                     self.key("old", self.site), "ls", server=orch)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("certificate expired on 2020-02-01", r.stderr)
        self.assertTrue(self.dim_json("cert", "show", self.crt("old", self.site))["expired"])
        # ... and by the orchestrator, when a client sends it anyway.
        import grpc
        o_pb2, o_grpc, _, _ = self.grpc_stubs()
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.read(self.crt("ca", self.site)),
            private_key=self.read(self.key("old", self.site)),
            certificate_chain=self.read(self.crt("old", self.site)))
        with self.assertRaises(grpc.RpcError) as e:
            o_grpc.OrchestratorStub(grpc.secure_channel(orch.address, creds)).ListJobs(
                o_pb2.ListJobsRequest(), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)


class UsersTest(SecureTestCase):

    def test_users_see_only_their_own_jobs_and_admins_see_all(self):
        models = self.path("models")
        self.make_slow_model(models)
        shutil.copy(os.path.join(MODELS, "heart_risk.onnx"), models)
        orch = self.start_secure(models=models,
                                 more_data={"slow": self.make_dataset("slow", 60_000)})
        self.wait_nodes_tls(orch, ["node-a", "node-b"])
        job = self.submit(ALICE, orch)
        r = self.as_user(ALICE, "status", job, "--watch", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        for args in (("status", job), ("result", job), ("cancel", job), ("status", job, "--watch")):
            r = self.as_user(BOB, *args, server=orch)
            self.assertEqual(r.returncode, 4, f"{args}: {r.stdout}{r.stderr}")
            self.assertIn(f"job '{job}' not found", r.stderr)
        listed = lambda token: [j["job_id"] for j in json.loads(
            self.as_user(token, "-o", "json", "ls", server=orch).stdout)["jobs"]]
        self.assertEqual(listed(ALICE), [job])
        self.assertEqual(listed(BOB), [])
        self.assertEqual(listed(ROOT), [job])
        r = self.as_user(BOB, "ls", "--user", "alice", server=orch)
        self.assertEqual(r.returncode, 5, r.stderr)
        # Submitting as someone else: a user may not, an admin may.
        r = self.as_user(BOB, "submit", "--pattern", "collaborative", "--model", "heart_risk",
                         "--nodes", "node-a", "--user", "alice", server=orch)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("only an admin submits jobs for another user", r.stderr)
        for_bob = self.submit(ROOT, orch, "--user", "bob")
        self.assertEqual(listed(BOB), [for_bob])
        # Node addresses are for admins; pushing models too.
        nodes = json.loads(self.as_user(BOB, "-o", "json", "health", server=orch).stdout)["nodes"]
        self.assertTrue(all(n["address"] == "" for n in nodes), nodes)
        r = self.as_user(BOB, "model", "push", os.path.join(MODELS, "heart_risk.onnx"),
                         "--name", "m2", server=orch)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("pushing models needs an admin", r.stderr)
        r = self.as_user(ROOT, "model", "push", os.path.join(MODELS, "heart_risk.onnx"),
                         "--name", "m2", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        # An admin cancels bob's (slow) job, and the job says who did.
        slow = self.submit(BOB, orch, "--dataset", "slow", model="slow")
        r = self.as_user(ROOT, "cancel", slow, server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(self.as_user(BOB, "-o", "json", "status", slow, server=orch).stdout)
        self.assertEqual((doc["state"], doc["error"]), ("CANCELLED", "cancelled by root (admin)"))
        # The audit log has a line for each state-changing and each refused call above.
        calls = [(e["method"], e.get("identity", ""), e["outcome"]) for e in self.audit()
                 if e["method"] != "RegisterNode"]
        for expected in [("SubmitJob", "alice", "OK"), ("GetJobStatus", "bob", "NOT_FOUND"),
                         ("CancelJob", "bob", "NOT_FOUND"), ("CancelJob", "root", "OK"),
                         ("WatchJob", "bob", "NOT_FOUND"), ("SubmitJob", "bob", "PERMISSION_DENIED"),
                         ("SubmitJob", "root", "OK"), ("PushModel", "bob", "PERMISSION_DENIED"),
                         ("PushModel", "root", "OK")]:
            self.assertIn(expected, calls)
        # dim audit reads it back.
        r = self.dim("-o", "json", "audit", self.path("audit.log"), "--who", "bob", "--refused")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(all(e["identity"] == "bob" and e["outcome"] != "OK"
                            for e in json.loads(r.stdout)["entries"]))
        r = self.dim("audit", self.path("audit.log"), "--method", "PushModel")
        self.assertIn("PERMISSION_DENIED", r.stdout)

    def test_a_revoked_token_stops_working_at_sighup(self):
        orch = self.start_secure(nodes=())
        r = self.as_user(BOB, "ls", server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.write(self.tokens, f"{ALICE} alice user\n{ROOT} root admin\n")
        orch.proc.send_signal(signal.SIGHUP)
        self.wait_until(lambda: "2 tokens reloaded" in orch.log(), what="the reload")
        r = self.as_user(BOB, "ls", server=orch)
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("the token is not valid (unknown, or revoked)", r.stderr)
        self.assertEqual(self.as_user(ALICE, "ls", server=orch).returncode, 0)
        # A broken file keeps the tokens in use.
        self.write(self.tokens, "only-two words\n")
        orch.proc.send_signal(signal.SIGHUP)
        self.wait_until(lambda: "tokens not reloaded" in orch.log(), what="the refusal")
        self.assertEqual(self.as_user(ALICE, "ls", server=orch).returncode, 0)

    def test_the_rate_limit_refuses_and_stores_nothing(self):
        orch = self.start_secure(extra=["--rate-limit", "1/m", "--rate-burst", "3"])
        self.wait_nodes_tls(orch, ["node-a", "node-b"])
        import grpc
        o_pb2, o_grpc, _, _ = self.grpc_stubs()
        stub = o_grpc.OrchestratorStub(grpc.secure_channel(
            orch.address, grpc.ssl_channel_credentials(self.read(self.crt("ca")))))
        accepted, refused = [], []
        for _ in range(5):
            req = o_pb2.SubmitJobRequest(pattern=o_pb2.PATTERN_COLLABORATIVE, config_json=json.dumps(
                {"model_id": "heart_risk", "nodes": ["node-a"]}))
            try:
                accepted.append(stub.SubmitJob(req, metadata=[("authorization", "Bearer " + ALICE)],
                                               timeout=10).job_id)
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
                self.assertRegex(e.details(), r"rate limit exceeded for user 'alice' .*retry in")
                refused.append(e)
        self.assertEqual((len(accepted), len(refused)), (3, 2))
        # Why, and when to try again, for clients that read metadata.
        trailers = dict(refused[0].trailing_metadata())
        self.assertEqual(trailers["dim-error-code"], "RATE_LIMIT_EXCEEDED")
        self.assertGreater(int(trailers["retry-after-ms"]), 0)
        # Another user has a bucket of their own.
        self.assertEqual(self.as_user(ROOT, "ls", server=orch).returncode, 0)
        # Nothing refused was stored.
        jobs = json.loads(self.as_user(ROOT, "-o", "json", "ls", server=orch).stdout)
        self.assertEqual(sorted(j["job_id"] for j in jobs["jobs"]), sorted(accepted))
        limited = [e for e in self.audit() if e.get("code") == "RATE_LIMIT_EXCEEDED"]
        self.assertEqual(len(limited), 2)
        self.assertTrue(all(e["identity"] == "alice" for e in limited))


class NodeTokenTest(SecureTestCase):
    """Without TLS, a shared secret gives the same guarantees on loopback or a private network."""

    def test_node_token(self):
        secret = self.path("node-token")
        self.write(secret, "0f3a7c1e9b2d4f6a8c0e1b3d5f7a9c2e\n")
        orch = self.start_orchestrator(extra=["--node-token", secret])
        h = hospitals()
        self.start_daemon("node-a", {"default": h["a"]}, orchestrator=orch,
                          extra=["--node-token", secret])
        self.start_daemon("intruder", {"default": h["b"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["node-a"])
        doc = self.dim_json("submit", "--pattern", "collaborative", "--model", "heart_risk",
                            "--nodes", "node-a", "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")
        time.sleep(1)
        nodes = self.dim_json("health", server=orch)["nodes"]
        self.assertEqual([n["node_id"] for n in nodes], ["node-a"])
        self.assertIn("no node token (give the daemon --node-token)", orch.log())
        import grpc
        _, _, d_pb2, d_grpc = self.grpc_stubs()
        d = d_grpc.DaemonStub(grpc.insecure_channel(nodes[0]["address"]))
        with self.assertRaises(grpc.RpcError) as e:
            d.SubmitJob(d_pb2.SubmitJobRequest(job_id="x", model_id="heart_risk"), timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as e:
            d.GetStats(d_pb2.GetStatsRequest(), metadata=[("authorization", "Bearer wrong-one")],
                       timeout=10)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(d.GetHealth(d_pb2.GetHealthRequest(), timeout=10).status, "healthy")


class LimitsTest(DimTestCase):

    def test_a_site_sets_its_own_bounds(self):
        orch = self.start_orchestrator(extra=["--max-nodes-per-job", "1", "--max-config-bytes",
                                              "2K", "--max-message-bytes", "64K"])
        h = hospitals()
        self.start_daemon("node-a", {"default": h["a"]}, orchestrator=orch)
        self.start_daemon("node-b", {"default": h["b"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["node-a", "node-b"])
        r = self.dim("submit", "-p", "collaborative", "-m", "heart_risk", "--nodes", "node-a,node-b",
                     server=orch)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("nodes: 2 nodes; this orchestrator runs a job on at most 1 "
                      "(--max-nodes-per-job)", r.stderr)
        config = {"model_id": "heart_risk", "nodes": ["node-a"], "note": "x" * 3000}
        r = self.dim("submit", "-p", "collaborative", "--config-json", json.dumps(config),
                     server=orch)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("this orchestrator takes at most 2048 (--max-config-bytes)", r.stderr)
        config["note"] = "x" * 100000
        r = self.dim("submit", "-p", "collaborative", "--config-json", json.dumps(config),
                     server=orch)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("RESOURCE_EXHAUSTED", r.stderr)
        self.assertEqual(self.dim_json("ls", server=orch)["jobs"], [])
        doc = self.dim_json("submit", "-p", "collaborative", "-m", "heart_risk", "--nodes", "node-a",
                            "--wait", server=orch)
        self.assertEqual(doc["state"], "COMPLETED")


if __name__ == "__main__":
    unittest.main(verbosity=2)
