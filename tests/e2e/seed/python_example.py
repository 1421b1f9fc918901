#!/usr/bin/python3
"""Runs the original protocol README's Python example against a live orchestrator.

    /usr/bin/python3 tests/e2e/seed/python_example.py ADDR

1. Generates the Python stubs into a temporary folder the way the README describes
   (protoc --python_out / --grpc_python_out, --proto_path at proto/, all four files),
   using Debian's protoc and grpc_python_plugin instead of `pip install grpcio-tools`.
   The stubs are laid out as the package `dim.proto`, so the README's
   `from dim.proto import orchestrator_pb2, orchestrator_pb2_grpc` works; the generated
   modules import each other by bare name (`import orchestrator_pb2`), so the stub folder
   is on sys.path too and each module is one object under both names.
2. Runs the README's example code exactly as written, only with 'localhost:50051'
   replaced by ADDR (it submits model-abc on node-001 and prints `Job ID: ...`).
   With $DIM_TLS_CA (and $DIM_TOKEN) set, only the channel changes: a TLS channel that
   verifies the orchestrator against that CA and sends `authorization: Bearer TOKEN`
   with every call.
3. Polls GetJobStatus until the job is terminal (deadline 60 s), prints the final state
   name, and exits 0 only if the job COMPLETED.

Exit codes: 0 COMPLETED; 1 job ended FAILED/CANCELLED or the deadline passed;
2 stub generation failed; 3 an RPC failed (e.g. the server is unreachable).
Needs python3-grpcio, python3-protobuf and protobuf-compiler-grpc.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
PROTO_DIR = os.path.join(REPO, "proto")
PROTO_FILES = ["orchestrator.proto", "daemon.proto", "common.proto", "pattern_engine.proto"]
GRPC_PYTHON_PLUGIN = os.environ.get("GRPC_PYTHON_PLUGIN", "/usr/bin/grpc_python_plugin")
DEADLINE_S = 60.0

# The README's "Python Example", verbatim.
README_EXAMPLE = """\
import grpc
from dim.proto import orchestrator_pb2, orchestrator_pb2_grpc

# Create channel
channel = grpc.insecure_channel('localhost:50051')

# Create stub
stub = orchestrator_pb2_grpc.OrchestratorStub(channel)

# Submit job
request = orchestrator_pb2.SubmitJobRequest(
    user_id='user-123',
    pattern=orchestrator_pb2.PATTERN_COLLABORATIVE,
    config_json='{"model_id": "model-abc", "nodes": ["node-001"]}',
    priority=orchestrator_pb2.PRIORITY_NORMAL
)

response = stub.SubmitJob(request)
print(f"Job ID: {response.job_id}")
"""

# Makes `dim.proto.X` and the bare `X` (as the generated grpc modules import it) the same
# module object, so each .proto file is registered in the descriptor pool exactly once.
PACKAGE_INIT = """\
import importlib as _importlib
import os as _os
import sys as _sys

_here = _os.path.dirname(_os.path.abspath(__file__))
if _here not in _sys.path:
    _sys.path.insert(0, _here)
for _name in sorted(_f[:-3] for _f in _os.listdir(_here) if _f.endswith(("_pb2.py", "_pb2_grpc.py"))):
    _module = _importlib.import_module(_name)
    _sys.modules[__name__ + "." + _name] = _module
    globals()[_name] = _module
"""


def generate_stubs(root):
    """protoc into ROOT/dim/proto/; returns that folder."""
    out = os.path.join(root, "dim", "proto")
    os.makedirs(out)
    protoc = shutil.which("protoc")
    if protoc is None:
        raise RuntimeError("protoc not found (apt-get install protobuf-compiler)")
    if not os.path.exists(GRPC_PYTHON_PLUGIN):
        raise RuntimeError(f"{GRPC_PYTHON_PLUGIN} not found (apt-get install protobuf-compiler-grpc)")
    cmd = [
        protoc,
        f"--plugin=protoc-gen-grpc_python={GRPC_PYTHON_PLUGIN}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--proto_path={PROTO_DIR}",
        *PROTO_FILES,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"protoc failed ({proc.returncode}): {proc.stderr.strip()}")
    with open(os.path.join(root, "dim", "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(out, "__init__.py"), "w") as f:
        f.write(PACKAGE_INIT)
    return out


def secure_channel_code(addr):
    """The README's channel line over TLS, with the bearer token on every call."""
    creds = f"grpc.ssl_channel_credentials(open({os.environ['DIM_TLS_CA']!r}, 'rb').read())"
    if os.environ.get("DIM_TOKEN"):
        creds = (f"grpc.composite_channel_credentials({creds}, "
                 f"grpc.access_token_call_credentials({os.environ['DIM_TOKEN']!r}))")
    return f"grpc.secure_channel({addr!r}, {creds})"


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(f"usage: {argv[0]} ADDR   (the orchestrator's host:port)", file=sys.stderr)
        return 2
    addr = argv[1]

    tmp = tempfile.mkdtemp(prefix="dim-seed-py-")
    try:
        try:
            stub_dir = generate_stubs(tmp)
        except (RuntimeError, OSError) as e:
            print(f"python_example: {e}", file=sys.stderr)
            return 2
        sys.path.insert(0, tmp)
        sys.path.insert(1, stub_dir)

        import grpc

        code = README_EXAMPLE.replace("'localhost:50051'", repr(addr))
        if os.environ.get("DIM_TLS_CA"):
            code = code.replace(f"grpc.insecure_channel({addr!r})", secure_channel_code(addr))
        ns = {"__name__": "readme_example"}
        try:
            exec(compile(code, "README.md (Python Example)", "exec"), ns)
        except grpc.RpcError as e:
            print(f"python_example: SubmitJob failed: {e.code().name}: {e.details()}", file=sys.stderr)
            return 3
        sys.stdout.flush()

        orchestrator_pb2 = ns["orchestrator_pb2"]
        stub = ns["stub"]
        job_id = ns["response"].job_id
        if not job_id:
            print(f"python_example: SubmitJob returned no job id: {ns['response']}", file=sys.stderr)
            return 1

        terminal = {
            orchestrator_pb2.JOB_STATE_COMPLETED,
            orchestrator_pb2.JOB_STATE_FAILED,
            orchestrator_pb2.JOB_STATE_CANCELLED,
        }
        deadline = time.monotonic() + DEADLINE_S
        status = None
        while True:
            try:
                status = stub.GetJobStatus(orchestrator_pb2.GetJobStatusRequest(job_id=job_id), timeout=10)
            except grpc.RpcError as e:
                print(f"python_example: GetJobStatus failed: {e.code().name}: {e.details()}", file=sys.stderr)
                return 3
            if status.status in terminal or time.monotonic() >= deadline:
                break
            time.sleep(0.2)

        state = orchestrator_pb2.JobState.Name(status.status)
        print(state)
        if status.status not in terminal:
            print(f"python_example: job {job_id} not finished after {DEADLINE_S:.0f} s", file=sys.stderr)
            return 1
        if status.status != orchestrator_pb2.JOB_STATE_COMPLETED:
            if status.error:
                print(f"python_example: job error: {status.error}", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
