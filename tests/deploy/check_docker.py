#!/usr/bin/env python3
"""Checks deploy/Dockerfile, deploy/docker-compose.yml and deploy/docker/*
against each other and against the programs (their --help and a real start),
without Docker (deploy/docker-test.sh runs the real thing):

  - both stages are FROM debian:bookworm; the build stage turns tests off
    with the option the top-level CMakeLists.txt really has and builds every
    program it installs; the runtime stage runs as a non-root user, has the
    data volume, exposes the gRPC and metrics ports of the image's config
    file, has a HEALTHCHECK with memserver-health on the gRPC port, and
    memserverd as its entrypoint;
  - the image's config file has only memserverd keys, and memserverd starts
    with it plus the compose file's MEMSERVER_* environment (each variable
    naming a real flag);
  - compose: published ports are exposed ports, the healthcheck probes the
    gRPC port, memload waits for a healthy server, dials it by service name
    and uses only flags memload has, the stop grace period leaves time for
    the checkpoint, Prometheus scrapes the server's metrics port (and
    promtool, when installed, accepts prometheus.yml).

Usage: check_docker.py --repo DIR --memserverd PATH --memload PATH
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as ds  # noqa: E402

MIN_STOP_GRACE_S = 30


def dockerfile_stages(path):
    """[(from_line, [(INSTRUCTION, args), ...]), ...] with continuations joined."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stages.append((rest.strip(), []))
        elif stages:
            stages[-1][1].append((word.upper(), rest.strip()))
    return stages


def instructions(stage, name):
    return [args for word, args in stage[1] if word == name]


def check_dockerfile(repo, config, problems):
    stages = dockerfile_stages(os.path.join(repo, "deploy", "Dockerfile"))
    if not problems.check(len(stages) >= 2, "the Dockerfile needs a build and a runtime stage"):
        return None
    build, runtime = stages[0], stages[-1]
    for stage in stages:
        problems.check(stage[0].split()[0] == "debian:bookworm",
                       f"stage FROM {stage[0]!r}: every stage must be FROM debian:bookworm")
    build_runs = " ".join(instructions(build, "RUN"))
    with open(os.path.join(repo, "CMakeLists.txt")) as f:
        options = re.findall(r"option\((MEMSERVER_BUILD_TESTS)\b", f.read())
    problems.check(bool(options) and "-DMEMSERVER_BUILD_TESTS=OFF" in build_runs,
                   "the build stage must pass -DMEMSERVER_BUILD_TESTS=OFF (the real option)")
    shipped = ["memserverd", "memctl", "memload", "memnull", "memserver-health"]
    for program in shipped:
        problems.check(re.search(rf"--target [^&]*\b{program}\b", build_runs) is not None,
                       f"the build stage does not build {program}")

    user = instructions(runtime, "USER")
    problems.check(bool(user) and user[-1] not in ("root", "0"), "the runtime runs as root")
    volumes = " ".join(instructions(runtime, "VOLUME"))
    problems.check(config.get("data-dir") in volumes.split(),
                   f"data-dir {config.get('data-dir')!r} is not a VOLUME ({volumes!r})")
    exposed = {int(p.split("/")[0]) for e in instructions(runtime, "EXPOSE") for p in e.split()}
    for key in ("listen", "metrics-listen"):
        problems.check(ds.port_of(config.get(key)) in exposed,
                       f"the image's {key} {config.get(key)!r} is not EXPOSEd ({exposed})")
    health = instructions(runtime, "HEALTHCHECK")
    problems.check(bool(health) and "memserver-health" in health[-1],
                   "no HEALTHCHECK running memserver-health")
    env = " ".join(instructions(runtime, "ENV"))
    m = re.search(r"MEMSERVER_HEALTH_ADDR=(\S+)", env)
    problems.check(m is not None and ds.port_of(m.group(1)) == ds.port_of(config.get("listen")),
                   "MEMSERVER_HEALTH_ADDR is not the image's gRPC port")
    entry = instructions(runtime, "ENTRYPOINT")
    problems.check(bool(entry) and entry[-1].startswith('["memserverd"'),
                   "the entrypoint must be memserverd itself (PID 1, handles SIGTERM)")
    return exposed


def check_compose(repo, exposed, config, memload_flags, problems):
    with open(os.path.join(repo, "deploy", "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services", {})
    for name in ("memserverd", "prometheus", "memload"):
        if not problems.check(name in services, f"compose has no {name} service"):
            return {}
    server = services["memserverd"]
    grpc_port = ds.port_of(config.get("listen"))
    for mapping in server.get("ports", []):
        container_port = int(str(mapping).rsplit(":", 1)[-1].split("/")[0])
        problems.check(container_port in exposed,
                       f"compose publishes {container_port}, which the image does not EXPOSE")
    test = server.get("healthcheck", {}).get("test", [])
    problems.check("memserver-health" in test and "--addr" in test and
                   ds.port_of(test[test.index("--addr") + 1]) == grpc_port,
                   f"the memserverd healthcheck does not probe the gRPC port: {test}")
    if config.get("tls-cert"):
        problems.check("--tls-ca" in test, f"the healthcheck does not verify the TLS server: {test}")
    grace = str(server.get("stop_grace_period", "10s"))
    m = re.fullmatch(r"(\d+)(s|m)", grace)
    seconds = int(m.group(1)) * (60 if m.group(2) == "m" else 1) if m else 0
    problems.check(seconds >= MIN_STOP_GRACE_S,
                   f"stop_grace_period {grace} leaves less than {MIN_STOP_GRACE_S} s to checkpoint")

    load = services["memload"]
    problems.check(load.get("depends_on", {}).get("memserverd", {}).get("condition")
                   == "service_healthy", "memload must wait for memserverd to be healthy")
    args = load.get("command", [])
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    used = {a[2:].split("=")[0] for a in args if a.startswith("--")}
    problems.check(used <= memload_flags, f"memload flags unknown: {sorted(used - memload_flags)}")
    server_arg = args[args.index("--server") + 1] if "--server" in args[:-1] else ""
    problems.check(server_arg == f"memserverd:{grpc_port}",
                   f"memload --server {server_arg!r} is not memserverd:{grpc_port}")
    problems.check("--duration" in args or "--ops" in args, "memload needs a bounded run")
    if config.get("tenants"):
        problems.check("--token-file" in args, "memload in compose must authenticate (--token-file)")
    if config.get("tls-cert"):
        problems.check("--tls-ca" in args, "memload in compose must verify the server (--tls-ca)")
    env = server.get("environment", {})
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def check_prometheus(repo, config, problems):
    path = os.path.join(repo, "deploy", "docker", "prometheus.yml")
    with open(path) as f:
        prom = yaml.safe_load(f)
    targets = [t for job in prom.get("scrape_configs", [])
               for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
    want = f"memserverd:{ds.port_of(config.get('metrics-listen'))}"
    problems.check(want in targets, f"Prometheus does not scrape {want} ({targets})")
    if config.get("tls-cert"):
        jobs = [job for job in prom.get("scrape_configs", [])
                if any(want in sc.get("targets", []) for sc in job.get("static_configs", []))]
        problems.check(bool(jobs) and jobs[0].get("scheme") == "https",
                       "Prometheus must scrape memserverd over HTTPS (its metrics port speaks TLS)")
    promtool = shutil.which("promtool")
    if promtool:
        out = subprocess.run([promtool, "check", "config", path], capture_output=True,
                             text=True, timeout=60)
        problems.check(out.returncode == 0, f"promtool check config: {out.stdout}{out.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--memserverd", required=True)
    parser.add_argument("--memload", required=True)
    a = parser.parse_args()

    problems = ds.Problems()
    flags = ds.program_flags(a.memserverd)
    config_path = os.path.join(a.repo, "deploy", "docker", "memserverd.toml")
    with open(config_path) as f:
        config = ds.parse_config(f.read())
    unknown = sorted(set(config) - flags)
    problems.check(not unknown, f"docker/memserverd.toml keys memserverd does not know: {unknown}")

    exposed = check_dockerfile(a.repo, config, problems)
    if exposed is not None:
        env = check_compose(a.repo, exposed, config, ds.program_flags(a.memload), problems)
        known_env = {ds.env_name(f) for f in flags}
        unknown_env = sorted(k for k in env if k not in known_env)
        problems.check(not unknown_env,
                       f"compose sets variables that name no memserverd flag: {unknown_env}")
        # What the container runs: the image's config file, the compose
        # environment (addresses and data dir moved to temporary ones).
        ok, detail = ds.start_and_stop_memserverd(
            a.memserverd, env={**env, "MEMSERVER_CONFIG": config_path})
        problems.check(ok, f"memserverd with the image's config and the compose environment: "
                           f"{detail}")
    check_prometheus(a.repo, config, problems)
    return problems.report("check_docker")


if __name__ == "__main__":
    sys.exit(main())
