"""Helpers of the deployment checks: sizes, flags, and memserverd itself.

The checks compare what the deployment files say (ports, config keys,
environment variables, memory) with what the programs accept, asking the
programs (`--help`, and a real start) rather than a copy of their flag list.
"""
import os
import re
import signal
import subprocess
import tempfile
import time

try:
    import tomllib  # Python 3.11+ (Debian 12's python3)
except ImportError:  # pragma: no cover - older interpreters
    tomllib = None

_SIZE_UNITS = {"": 0, "b": 0, "k": 10, "kib": 10, "kb": 10, "m": 20, "mib": 20, "mb": 20,
               "g": 30, "gib": 30, "gb": 30, "t": 40, "tib": 40, "tb": 40}

_QUANTITY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                      "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


class Problems:
    """Collects failed checks; each is printed, and the test fails at the end."""

    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)
        return condition

    def extend(self, messages):
        self.failures.extend(messages)

    def report(self, name):
        for f in self.failures:
            print(f"FAIL {f}")
        print(f"{name}: {self.passed} checks passed, {len(self.failures)} failed")
        return 1 if self.failures else 0


def parse_byte_size(text):
    """memserverd's size syntax (server/service/byte_size.cc): 4096, 64KiB, 1GiB, 1G."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"not a memserverd size: {text!r}")
    return int(m.group(1)) << _SIZE_UNITS[m.group(2).lower()]


def parse_quantity(value):
    """A Kubernetes memory quantity in bytes: 1280Mi, 2Gi, 1G, 512000000."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)", str(value))
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return int(float(m.group(1)) * _QUANTITY_SUFFIXES[m.group(2)])


def port_of(address):
    """The port of "host:port" (an int), or None when it has none."""
    host, sep, port = str(address).rpartition(":")
    return int(port) if sep and port.isdigit() else None


def parse_config(text):
    """memserverd's config file (TOML subset: key = value) as a dict of strings."""
    if tomllib is not None:
        return {k: str(v) for k, v in tomllib.loads(text).items()}
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"')
    return out


def program_flags(program):
    """The long flags `program --help` lists, without dashes: {"memory", "data-dir", ...}."""
    out = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"{program} --help exited {out.returncode}: {out.stderr}")
    return set(re.findall(r"--([a-z][a-z0-9-]*)", out.stdout))


def env_name(flag):
    """The MEMSERVER_* variable of a long flag: data-dir -> MEMSERVER_DATA_DIR."""
    return "MEMSERVER_" + flag.upper().replace("-", "_")


MAKE_CREDENTIALS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                                "make-credentials.sh")


def start_and_stop_memserverd(memserverd, args=(), env=None, deadline_s=60):
    """Starts memserverd with ARGS and ENV on loopback ephemeral ports, a
    fresh data directory and fresh credentials made by
    deploy/make-credentials.sh (the flags override the config file's and the
    environment's TLS files and tenants file), waits until it listens, sends
    SIGTERM and waits for it to exit. Returns (ok, detail): ok when it
    started and exited 0."""
    with tempfile.TemporaryDirectory(prefix="memserver-deploy-") as tmp:
        port_file = os.path.join(tmp, "port")
        log_path = os.path.join(tmp, "log")
        creds = os.path.join(tmp, "credentials")
        made = subprocess.run(["bash", MAKE_CREDENTIALS, creds], capture_output=True, text=True,
                              timeout=deadline_s)
        if made.returncode != 0:
            return False, f"deploy/make-credentials.sh failed (needs openssl): {made.stderr}"
        cmd = [memserverd, *args, "--listen", "127.0.0.1:0", "--metrics-listen",
               "127.0.0.1:0", "--data-dir", os.path.join(tmp, "data"),
               "--port-file", port_file,
               "--tls-cert", os.path.join(creds, "server.pem"),
               "--tls-key", os.path.join(creds, "server.key"),
               "--tenants", os.path.join(creds, "tenants.toml")]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MEMSERVER_")}
        full_env.update(env or {})
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env)
        try:
            give_up = time.monotonic() + deadline_s
            while not os.path.exists(port_file):
                if proc.poll() is not None:
                    return False, f"exited {proc.returncode} before listening: {_read(log_path)}"
                if time.monotonic() > give_up:
                    return False, f"not listening after {deadline_s} s: {_read(log_path)}"
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=deadline_s)
            if code != 0:
                return False, f"exited {code} after SIGTERM: {_read(log_path)}"
            return True, _read(log_path)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _read(path):
    with open(path, errors="replace") as f:
        return f.read()[-4000:]
