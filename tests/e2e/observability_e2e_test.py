#!/usr/bin/python3
"""End to end: the services' Prometheus metrics, scraped by a real Prometheus server and
checked with promtool; JSON logs; job timelines (dim status --events); a port another
process holds is refused."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from dim_harness import DimTestCase, hospitals  # noqa: E402

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def metrics_address(service):
    """The address of a service's metrics endpoint, from its log."""
    for line in service.log().splitlines():
        if "metrics on http://" in line:
            return line.split("metrics on http://", 1)[1].split("/metrics", 1)[0]
    raise AssertionError("no metrics address in the log:\n" + service.log())


def scrape(address):
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        return r.read().decode()


def listening_ports(pid):
    """The TCP ports process `pid` listens on (from /proc: it was started on port 0)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                    ports.append(int(fields[1].split(":")[1], 16))
    return ports


def metric_value(text, name, **labels):
    """The value of one sample in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] != name:
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return None


class MetricsTest(DimTestCase):

    def start_prometheus(self, targets):
        config = self.path("prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: dim\n    static_configs:\n"
                    f"      - targets: {json.dumps(targets)}\n")
        log = open(self.path("prometheus.log"), "wb")
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={self.path('tsdb')}",
             "--web.listen-address=127.0.0.1:0"], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.addCleanup(log.close)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(timeout=20)))
        ports = self.wait_until(lambda: proc.poll() is None and listening_ports(proc.pid),
                                timeout=30, what="prometheus to listen")
        self.prometheus = f"127.0.0.1:{ports[0]}"
        return proc

    def query(self, expr):
        url = f"http://{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                doc = json.loads(r.read())
        except OSError:
            return None
        result = doc.get("data", {}).get("result", [])
        return [(item["metric"], float(item["value"][1])) for item in result]

    @unittest.skipUnless(os.path.exists(PROMETHEUS) and os.path.exists(PROMTOOL),
                         "Debian's prometheus package is not installed "
                         "(scripts/install-deps.sh --test installs it)")
    def test_prometheus_scrapes_both_services_and_counts_the_jobs(self):
        orch = self.start_orchestrator(extra=["--metrics-listen", "127.0.0.1:0"])
        sites = hospitals()
        daemons = [self.start_daemon(node, {"default": sites[key]}, orchestrator=orch,
                                     extra=["--metrics-listen", "127.0.0.1:0"])
                   for node, key in (("hospital-a", "a"), ("hospital-b", "b"))]
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b"])
        targets = [metrics_address(s) for s in [orch] + daemons]
        self.start_prometheus(targets)

        config = json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a", "hospital-b"]})
        for _ in range(3):
            job = self.dim_json("submit", "--pattern", "collaborative", "--config-json", config,
                                "--wait", server=orch)
            self.assertEqual(job["state"], "COMPLETED", job)
        bad = json.dumps({"model_id": "no_such_model", "nodes": ["hospital-a"]})
        r = self.dim("submit", "--pattern", "collaborative", "--config-json", bad, server=orch)
        self.assertNotEqual(r.returncode, 0)

        # Each output is valid exposition format, with Prometheus' naming rules.
        for address in targets:
            text = scrape(address)
            check = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                                   capture_output=True, text=True)
            self.assertEqual(check.returncode, 0, f"{address}:\n{check.stdout}{check.stderr}")
        text = scrape(targets[0])
        self.assertEqual(metric_value(text, "dim_jobs_submitted_total", pattern="collaborative"), 3)
        self.assertEqual(metric_value(text, "dim_jobs_finished_total", pattern="collaborative",
                                      state="completed"), 3)
        self.assertEqual(metric_value(text, "dim_job_duration_seconds_count",
                                      pattern="collaborative", state="completed"), 3)
        self.assertEqual(metric_value(text, "dim_node_up", node="hospital-a"), 1)
        self.assertEqual(metric_value(text, "dim_jobs_running"), 0)
        self.assertEqual(metric_value(text, "dim_node_tasks_finished_total", node="hospital-b",
                                      status="completed"), 3)
        # The refused submit is an RPC that ended INVALID_ARGUMENT or NOT_FOUND.
        self.assertGreaterEqual(metric_value(text, "dim_rpc_duration_seconds_count",
                                             method="SubmitJob", code="OK"), 3)
        self.assertIsNotNone(metric_value(text, "dim_process_start_time_seconds"))
        daemon_text = scrape(targets[1])
        rows_a = metric_value(daemon_text, "dim_rows_inferred_total", dataset="default",
                              model="heart_mlp")
        self.assertEqual(rows_a, 3 * self.rows(sites["a"]))
        self.assertEqual(metric_value(daemon_text, "dim_task_duration_seconds_count",
                                      kind="summary", dataset="default", model="heart_mlp",
                                      status="completed"), 3)
        self.assertIsNotNone(metric_value(daemon_text, "dim_model_cache_hits_total"))

        # Prometheus itself scraped the three targets and holds the same counts.
        def scraped():
            up = self.query("up")
            jobs = self.query('sum(dim_jobs_finished_total{state="completed"})')
            rows = self.query("sum(dim_rows_inferred_total)")
            if not up or len(up) != 3 or any(v != 1 for _, v in up) or not jobs or not rows:
                return None
            return jobs[0][1], rows[0][1]
        jobs, rows = self.wait_until(scraped, timeout=30, what="prometheus to scrape dim")
        self.assertEqual(jobs, 3)
        self.assertEqual(rows, 3 * (self.rows(sites["a"]) + self.rows(sites["b"])))
        nodes = self.query("dim_node_up")
        self.assertEqual(sorted(m["node"] for m, v in nodes if v == 1),
                         ["hospital-a", "hospital-b"])

    def rows(self, csv_path):
        with open(csv_path) as f:
            return sum(1 for line in f if line.strip()) - 1

    def test_a_metrics_port_in_use_is_refused(self):
        orch = self.start_orchestrator(extra=["--metrics-listen", "127.0.0.1:0"])
        taken = metrics_address(orch)
        r = self.dim("orchestrator", "serve", "--listen", "127.0.0.1:0", "--db",
                     self.path("other.db"), "--metrics-listen", taken, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--metrics-listen: cannot listen on " + taken, r.stderr)

    def test_a_grpc_port_in_use_is_refused(self):
        orch = self.start_orchestrator()
        r = self.dim("orchestrator", "serve", "--listen", orch.address, "--db",
                     self.path("other.db"), timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot listen on " + orch.address + ": address already in use", r.stderr)


class LogsAndEventsTest(DimTestCase):

    def test_json_logs_are_one_object_a_line_naming_process_node_and_job(self):
        # A dataset file whose name is not UTF-8: its path goes into a log line.
        odd = self.path("site-\udcff.csv")
        shutil.copy(hospitals()["a"], odd)
        orch = self.start_orchestrator(extra=["--log-format", "json"])
        daemon = self.start_daemon("hospital-a", {"default": odd}, orchestrator=orch,
                                   extra=["--log-format", "json"])
        self.wait_for_nodes(orch, ["hospital-a"])
        config = json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a"]})
        job = self.dim_json("submit", "--pattern", "collaborative", "--config-json", config, "--wait",
                            server=orch)
        self.assertEqual(job["state"], "COMPLETED")

        def lines(service):
            with open(service.log_path, "rb") as f:
                raw = f.read()
            return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
        # Every line parses, as UTF-8 and as JSON.
        orch_lines = self.wait_until(
            lambda: [e for e in lines(orch) if e.get("job") == job["job_id"]] and lines(orch),
            what="the job's end in the orchestrator's log")
        for e in orch_lines:
            self.assertEqual(e["process"], "orchestrator", e)
            self.assertIn(e["level"], ("trace", "debug", "info", "warning", "error", "critical"))
            self.assertTrue(e["time"].endswith("Z"), e)
            self.assertIn("message", e)
        ended = [e for e in orch_lines if e.get("job") == job["job_id"]]
        self.assertTrue(any("COMPLETED" in e["message"] for e in ended), ended)
        daemon_lines = self.wait_until(
            lambda: [e for e in lines(daemon) if e.get("job") == job["job_id"]] and lines(daemon),
            what="the task's end in the daemon's log")
        self.assertTrue(all(e["process"] == "daemon" and e["node"] == "hospital-a"
                            for e in daemon_lines))
        self.assertTrue(any("\ufffd" in e["message"] for e in daemon_lines),
                        "the odd file name is in a log line, with U+FFFD for its odd byte")
        task_end = [e for e in daemon_lines if e.get("job") == job["job_id"]]
        self.assertTrue(any("completed in" in e["message"] for e in task_end), task_end)

    def test_text_logs_name_the_process_and_the_job(self):
        orch = self.start_orchestrator()
        daemon = self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        config = json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a"]})
        job = self.dim_json("submit", "--pattern", "collaborative", "--config-json", config, "--wait",
                            server=orch)
        self.wait_until(lambda: f"[orchestrator] job {job['job_id']}: collaborative job "
                        "COMPLETED in" in orch.log(), what="the job's end in the log")
        self.wait_until(lambda: f"[daemon hospital-a] job {job['job_id']}: summary task"
                        in daemon.log(), what="the task's end in the daemon's log")
        daemon.stop()
        self.wait_until(lambda: "node 'hospital-a' deregistered" in orch.log(),
                        what="the node's end in the orchestrator's log")

    def test_status_events_show_the_timeline(self):
        orch = self.start_orchestrator()
        self.start_daemon("hospital-a", {"default": hospitals()["a"]}, orchestrator=orch)
        self.start_daemon("hospital-b", {"default": hospitals()["b"]}, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a", "hospital-b"])
        config = json.dumps({"model_id": "heart_mlp", "nodes": ["hospital-a", "hospital-b"]})
        job = self.dim_json("submit", "--pattern", "collaborative", "--config-json", config, "--wait",
                            server=orch)
        doc = self.dim_json("status", job["job_id"], "--events", server=orch)
        kinds = [e["event"] for e in doc["events"]]
        self.assertEqual(kinds[:3], ["submitted", "queued", "started"], kinds)
        self.assertEqual(kinds[-1], "ended")
        self.assertEqual(sorted(e["node_id"] for e in doc["events"] if e["event"] == "task_ended"),
                         ["hospital-a", "hospital-b"])
        self.assertEqual(kinds.count("task_started"), 2)
        self.assertIn("COMPLETED", doc["events"][-1]["detail"])
        times = [e["time"] for e in doc["events"]]
        self.assertEqual(times, sorted(times))
        table = self.dim("status", job["job_id"], "--events", server=orch)
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertIn("task_ended", table.stdout)
        self.assertIn("hospital-b", table.stdout)

    def test_progress_of_a_running_task_and_a_cancel_in_the_timeline(self):
        orch = self.start_orchestrator()
        models = self.path("slow-models")
        os.makedirs(models)
        self.make_slow_model(models)
        data = self.make_dataset("big", 100000)
        self.start_daemon("hospital-a", {"default": data}, models=models, orchestrator=orch)
        self.wait_for_nodes(orch, ["hospital-a"])
        config = json.dumps({"model_id": "slow", "nodes": ["hospital-a"]})
        job = self.dim_json("submit", "--pattern", "collaborative", "--config-json", config,
                            server=orch)
        # The node's progress reaches the job's status while its task runs.
        def progress():
            node = self.job(orch, job["job_id"])["nodes"][0]
            return node if 0 < node["rows_done"] < node["rows_total"] else None
        node = self.wait_until(progress, timeout=30, what="rows done of the running task")
        self.assertEqual(node["rows_total"], 100000)
        table = self.dim("status", job["job_id"], server=orch).stdout
        self.assertRegex(table, r"hospital-a\s+running\s+[0-9,]+/100,000")
        r = self.dim("cancel", job["job_id"], server=orch)
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = self.dim_json("status", job["job_id"], "--events", server=orch)
        kinds = [e["event"] for e in doc["events"]]
        self.assertIn("cancel_requested", kinds)
        self.assertEqual(kinds[-1], "ended")
        self.assertIn("CANCELLED", doc["events"][-1]["detail"])

    def test_local_mode_keeps_events_in_the_job_file(self):
        r = self.dim("--local", "--local-node", "a=" + hospitals()["a"], "--models",
                     os.path.join(os.environ.get("DIM_SOURCE_ROOT", "."), "examples", "models"),
                     "-o", "json", "submit", "--pattern", "collaborative", "--config-json",
                     json.dumps({"model_id": "heart_mlp"}), "--wait")
        self.assertEqual(r.returncode, 0, r.stderr)
        job = json.loads(r.stdout)
        r = self.dim("--local", "-o", "json", "status", job["job_id"], "--events")
        self.assertEqual(r.returncode, 0, r.stderr)
        kinds = [e["event"] for e in json.loads(r.stdout)["events"]]
        self.assertEqual(kinds[0], "submitted")
        self.assertEqual(kinds[-1], "ended")


if __name__ == "__main__":
    unittest.main()
