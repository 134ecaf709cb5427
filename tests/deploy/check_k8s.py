#!/usr/bin/env python3
"""Checks deploy/k8s/: every manifest against the schema subset of
k8s_schema.py, then the manifests against each other and against memserverd:

  - the StatefulSet's selector picks its own pods, its serviceName is a
    headless Service that selects them, the Service's target ports exist;
  - health probes (startup, readiness, liveness) ask the container's gRPC
    port: memserver-health over TLS with the mounted CA (Kubernetes' native
    gRPC probe speaks no TLS), or a grpc: probe when the config has no TLS;
  - the config's TLS and tenants files are in a mounted Secret that
    kustomization.yaml generates with those files;
  - every volume mount has a volume or a claim template; the data volume is
    a claim template mounted where the config's data-dir points;
  - the ConfigMap's file is mounted where --config points, its keys are
    memserverd flags, its listen/metrics ports are the container's ports and
    the scrape annotation's, and memserverd really starts with it;
  - the memory request covers the config's --memory plus overhead, limits >= requests.

Usage: check_k8s.py --repo DIR --memserverd PATH
"""
import argparse
import glob
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as ds  # noqa: E402
import k8s_schema  # noqa: E402

# What the replica needs beyond the frame pool: gRPC buffers, RocksDB's
# memtables and block cache, the page tables.
MIN_OVERHEAD = 128 << 20


def load_manifests(k8s_dir, problems):
    docs = []
    for path in sorted(glob.glob(os.path.join(k8s_dir, "*.yaml"))):
        name = os.path.basename(path)
        try:
            with open(path) as f:
                parsed = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            problems.check(False, f"{name}: not valid YAML: {e}")
            continue
        for i, doc in enumerate(parsed):
            where = name if len(parsed) == 1 else f"{name}#{i}"
            errors = k8s_schema.validate(doc, where)
            problems.check(not errors, f"{where}: schema: " + "; ".join(errors))
            docs.append((name, doc))
    return docs


def one(docs, kind, problems):
    found = [d for _, d in docs if isinstance(d, dict) and d.get("kind") == kind]
    problems.check(len(found) == 1, f"expected exactly one {kind}, found {len(found)}")
    return found[0] if found else None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_kustomization(docs, problems):
    k = one(docs, "Kustomization", problems)
    if not k:
        return
    listed = set(k.get("resources", []))
    files = {name for name, d in docs if d.get("kind") != "Kustomization"}
    problems.check(listed == files,
                   f"kustomization.yaml lists {sorted(listed)}, the folder has {sorted(files)}")


def check_workload(sts, svc, problems):
    spec = sts["spec"]
    pod_labels = spec["template"].get("metadata", {}).get("labels", {})
    problems.check(selects(spec["selector"].get("matchLabels"), pod_labels),
                   "StatefulSet selector does not match its pod template's labels")
    problems.check(spec["serviceName"] == svc["metadata"]["name"],
                   f"StatefulSet serviceName {spec['serviceName']!r} is not the Service "
                   f"{svc['metadata']['name']!r}")
    problems.check(svc["spec"].get("clusterIP") == "None",
                   "the Service must be headless (clusterIP: None): clients address replicas")
    problems.check(selects(svc["spec"].get("selector"), pod_labels),
                   "the Service's selector does not match the StatefulSet's pods")
    container = spec["template"]["spec"]["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for sp in svc["spec"]["ports"]:
        target = sp.get("targetPort", sp["port"])
        ok = target in ports if isinstance(target, str) else target in ports.values()
        problems.check(ok, f"Service port {sp.get('name')} targets {target!r}, "
                           f"not a container port ({ports})")
    return container, ports


def check_probes(container, ports, tls, problems):
    grpc_port = ports.get("grpc")
    problems.check(grpc_port is not None, "the container has no port named grpc")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        if not problems.check(probe is not None, f"container has no {kind}"):
            continue
        if tls:
            command = probe.get("exec", {}).get("command", [])
            ok = bool(command) and command[0] == "memserver-health" and "--addr" in command[:-1]
            problems.check(ok, f"{kind} must run memserver-health --addr (the server speaks TLS)")
            if ok:
                problems.check(ds.port_of(command[command.index("--addr") + 1]) == grpc_port,
                               f"{kind} asks another port than the gRPC port {grpc_port}")
                problems.check("--tls-ca" in command, f"{kind} does not verify the server (--tls-ca)")
            continue
        problems.check("grpc" in probe, f"{kind} must use the gRPC health protocol (grpc:)")
        if "grpc" in probe:
            problems.check(probe["grpc"]["port"] == grpc_port,
                           f"{kind} asks port {probe['grpc']['port']}, the gRPC port is "
                           f"{grpc_port}")
    live = container.get("livenessProbe", {})
    ready = container.get("readinessProbe", {})
    if live and ready:
        # Liveness must be the more patient one: a busy replica goes unready
        # (no new clients) long before it is killed.
        problems.check(
            live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
            >= ready.get("periodSeconds", 10) * ready.get("failureThreshold", 3),
            "livenessProbe gives up sooner than readinessProbe")


def check_credentials(docs, config, volumes, mounts, problems):
    """The config's TLS and tenants files come from a mounted Secret that the
    kustomization generates with exactly those file names."""
    k = one(docs, "Kustomization", problems) or {}
    generated = {g["name"]: {os.path.basename(f) for f in g.get("files", [])}
                 for g in k.get("secretGenerator", [])}
    for key in ("tls-cert", "tls-key", "tenants"):
        path = config.get(key)
        if not problems.check(bool(path), f"the config has no {key}: the replicas would be open"):
            continue
        directory, name = os.path.split(path)
        mounted = [n for n, p in mounts.items() if p == directory]
        secret = volumes.get(mounted[0], {}).get("secret", {}) if mounted else {}
        problems.check(bool(secret), f"{key} {path}: {directory} is not a Secret mount")
        if secret:
            files = generated.get(secret.get("secretName"), set())
            problems.check(name in files, f"{key} {path}: the Secret {secret.get('secretName')!r} "
                                          f"is not generated with {name}")


def check_volumes(sts, container, problems):
    pod = sts["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in sts["spec"].get("volumeClaimTemplates", [])}
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    for name in mounts:
        problems.check(name in volumes or name in claims,
                       f"volumeMount {name!r} has no volume or volumeClaimTemplate")
    for name in claims:
        problems.check(name not in volumes, f"{name!r} is both a volume and a claim template")
    return volumes, claims, mounts


def check_config(sts, cm, container, ports, volumes, claims, mounts, flags, memserverd,
                 problems):
    args = container.get("args", [])
    if not problems.check("--config" in args[:-1], "memserverd is not given --config FILE"):
        return
    config_path = args[args.index("--config") + 1]
    config_dir, key = os.path.split(config_path)
    mounted = [n for n, p in mounts.items() if p == config_dir]
    ok = bool(mounted) and "configMap" in volumes.get(mounted[0], {})
    problems.check(ok, f"--config {config_path}: {config_dir} is not a ConfigMap mount")
    if ok:
        problems.check(volumes[mounted[0]]["configMap"]["name"] == cm["metadata"]["name"],
                       "the config volume names another ConfigMap")
    text = cm.get("data", {}).get(key)
    if not problems.check(text is not None, f"ConfigMap has no key {key!r} (from --config)"):
        return
    config = ds.parse_config(text)
    unknown = sorted(set(config) - flags)
    problems.check(not unknown, f"config keys memserverd does not know: {unknown}")
    problems.check(ds.port_of(config.get("listen")) == ports.get("grpc"),
                   f"config listen {config.get('listen')!r} is not the grpc containerPort")
    problems.check(ds.port_of(config.get("metrics-listen")) == ports.get("metrics"),
                   f"config metrics-listen {config.get('metrics-listen')!r} is not the "
                   f"metrics containerPort")
    annotations = sts["spec"]["template"].get("metadata", {}).get("annotations", {})
    problems.check(annotations.get("prometheus.io/scrape") == "true",
                   "pods lack the prometheus.io/scrape: \"true\" annotation")
    problems.check(annotations.get("prometheus.io/port") == str(ports.get("metrics")),
                   "prometheus.io/port is not the metrics port")
    data_mount = [n for n, p in mounts.items() if p == config.get("data-dir")]
    problems.check(bool(data_mount) and data_mount[0] in claims,
                   f"data-dir {config.get('data-dir')!r} is not a volumeClaimTemplate mount "
                   f"(the RocksDB data must outlive the pod)")

    check_memory(container, config, problems)
    # The real program accepts the file (addresses and data dir moved to a
    # temporary place, so nothing here binds 0.0.0.0 or writes /data).
    with_file = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                             f"memserver-k8s-config-{os.getpid()}.toml")
    with open(with_file, "w") as f:
        f.write(text)
    try:
        ok, detail = ds.start_and_stop_memserverd(memserverd, ["--config", with_file])
        problems.check(ok, f"memserverd with the ConfigMap's file: {detail}")
    finally:
        os.unlink(with_file)


def check_memory(container, config, problems):
    try:
        memory = ds.parse_byte_size(config.get("memory", "256MiB"))
        resources = container.get("resources", {})
        request = ds.parse_quantity(resources.get("requests", {}).get("memory", "0"))
        limit = ds.parse_quantity(resources.get("limits", {}).get("memory", "0"))
    except ValueError as e:
        problems.check(False, str(e))
        return
    problems.check(request >= memory + MIN_OVERHEAD,
                   f"memory request {request >> 20} MiB does not cover --memory "
                   f"{memory >> 20} MiB plus {MIN_OVERHEAD >> 20} MiB overhead")
    problems.check(limit >= request, "memory limit below the request")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True)
    parser.add_argument("--memserverd", required=True)
    a = parser.parse_args()

    problems = ds.Problems()
    flags = ds.program_flags(a.memserverd)
    docs = load_manifests(os.path.join(a.repo, "deploy", "k8s"), problems)
    check_kustomization(docs, problems)
    sts = one(docs, "StatefulSet", problems)
    svc = one(docs, "Service", problems)
    cm = one(docs, "ConfigMap", problems)
    if sts and svc and cm and not problems.failures:
        container, ports = check_workload(sts, svc, problems)
        config = ds.parse_config(next(iter(cm.get("data", {}).values()), ""))
        check_probes(container, ports, bool(config.get("tls-cert")), problems)
        volumes, claims, mounts = check_volumes(sts, container, problems)
        check_credentials(docs, config, volumes, mounts, problems)
        check_config(sts, cm, container, ports, volumes, claims, mounts, flags, a.memserverd,
                     problems)
    return problems.report("check_k8s")


if __name__ == "__main__":
    sys.exit(main())
