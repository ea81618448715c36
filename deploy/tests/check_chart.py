#!/usr/bin/python3
"""Checks every document that `helm template` rendered from deploy/helm/vmpooler, and writes what is needed to run
the rendered containers under podman.

    check_chart.py RENDERED.yaml OUT_DIR [--secret NAME/KEY=VALUE ...] [--expect KIND=COUNT ...]

Prints one TAP-like line per check ("ok - ..." / "not ok - ..."); exits 1 when any check failed. In OUT_DIR it
writes, for each of the vmpooler containers (api, manager) and the chart's own Redis (when rendered), a JSON file
<component>.json: image, args, env (Secret references resolved), the files of its ConfigMap volumes (written under
OUT_DIR) with their mount paths, tmpfs paths, user and security settings.
"""
import json
import os
import re
import sys

import yaml

DNS_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart")
# Routes every vmpooler role serves (docs/configuration.md, "Health"); test.sh also requests each probe for real.
PROBE_ROUTES = {"/healthz", "/readyz"}

results = []


def check(condition, message):
    results.append((bool(condition), message))
    return bool(condition)


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def matches_expressions(expressions, labels):
    for e in expressions:
        value = labels.get(e["key"])
        if e["operator"] == "In" and value not in e["values"]:
            return False
        if e["operator"] == "Exists" and value is None:
            return False
    return bool(expressions)


def main(argv):
    rendered, out = argv[1], argv[2]
    secrets, expected = {}, {}
    rest = argv[3:]
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == "--secret":
            ref, secret = value.split("=", 1)
            secrets[ref] = secret
        elif flag == "--expect":
            kind, count = value.split("=", 1)
            expected[kind] = int(count)
    with open(rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    os.makedirs(out, exist_ok=True)
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    check_documents(docs, by_kind, expected)
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    for s in by_kind.get("Secret", []):
        for key, value in s.get("data", {}).items():
            import base64
            secrets[f"{s['metadata']['name']}/{key}"] = base64.b64decode(value).decode()
    deployments = by_kind.get("Deployment", [])
    for d in deployments:
        check_deployment(d, configmaps, secrets, by_kind, out)
    check_services(by_kind, deployments)
    check_disruption_budgets(by_kind, deployments)
    check_ingress(by_kind)
    check_service_monitor(by_kind, configmaps)
    failed = 0
    for ok, message in results:
        print(("ok - " if ok else "not ok - ") + message)
        failed += 0 if ok else 1
    print(f"chart: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def check_documents(docs, by_kind, expected):
    for kind, count in expected.items():
        check(len(by_kind.get(kind, [])) == count, f"{count} {kind} document(s) rendered (got {len(by_kind.get(kind, []))})")
    unexpected = set(by_kind) - set(expected)
    check(not unexpected, f"no unexpected kinds ({sorted(unexpected)})")
    seen = set()
    for d in docs:
        name = d["metadata"]["name"]
        where = f"{d['kind']} {name}"
        check((d["kind"], name) not in seen, f"{where}: the only one of its kind with this name")
        seen.add((d["kind"], name))
        check(DNS_1123.match(name) and len(name) <= 63, f"{where}: a DNS-1123 name of at most 63 characters")
        labels = d["metadata"].get("labels", {})
        check(all(labels.get(l) for l in REQUIRED_LABELS), f"{where}: carries the standard labels")
        check(d.get("apiVersion") in ("v1", "apps/v1", "policy/v1", "networking.k8s.io/v1", "monitoring.coreos.com/v1"),
              f"{where}: a current apiVersion ({d.get('apiVersion')})")


def check_deployment(d, configmaps, secrets, by_kind, out):
    name = d["metadata"]["name"]
    spec, pod = d["spec"], d["spec"]["template"]["spec"]
    labels = d["spec"]["template"]["metadata"]["labels"]
    component = labels.get("app.kubernetes.io/component")
    check(matches(spec["selector"]["matchLabels"], labels), f"Deployment {name}: its selector matches its pod labels")
    check(component in ("api", "manager", "redis"), f"Deployment {name}: a known component ({component})")
    check(spec.get("replicas", 1) >= 1, f"Deployment {name}: at least one replica")
    pod_security = pod.get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True and pod_security.get("runAsUser", 0) > 0,
          f"Deployment {name}: runs as a non-root user")
    sa = pod.get("serviceAccountName")
    if sa and sa != "default":
        check(any(s["metadata"]["name"] == sa for s in by_kind.get("ServiceAccount", [])),
              f"Deployment {name}: its ServiceAccount {sa} is rendered")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check(len(pod["containers"]) == 1, f"Deployment {name}: one container")
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, f"Deployment {name}: read-only root filesystem")
    check(sc.get("allowPrivilegeEscalation") is False, f"Deployment {name}: no privilege escalation")
    check("ALL" in sc.get("capabilities", {}).get("drop", []), f"Deployment {name}: drops all capabilities")
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(kind)
        if probe is None:
            check(component == "redis" or kind == "startupProbe", f"Deployment {name}: has a {kind}")
            continue
        if component == "redis":
            check(probe.get("tcpSocket", {}).get("port") in ports, f"Deployment {name}: {kind} on the Redis port")
            continue
        get = probe.get("httpGet", {})
        check(get.get("path") in PROBE_ROUTES, f"Deployment {name}: {kind} on a health route ({get.get('path')})")
        check(get.get("port") in ports or get.get("port") in ports.values(), f"Deployment {name}: {kind} on a container port")
    if component in ("api", "manager"):
        check(c.get("args") == [component], f"Deployment {name}: upstream's argument '{component}' ({c.get('args')})")
        check(c.get("command") is None, f"Deployment {name}: the image's entry point (no command override)")
    env = resolve_env(name, c.get("env", []), secrets)
    files, tmpfs = mounts(name, c.get("volumeMounts", []), volumes, configmaps, os.path.join(out, component or name))
    run = {
        "image": c["image"], "args": c.get("args", []), "env": env, "files": files, "tmpfs": tmpfs,
        "user": f"{pod_security.get('runAsUser')}:{pod_security.get('runAsGroup', pod_security.get('runAsUser'))}",
        "readOnly": sc.get("readOnlyRootFilesystem") is True, "capDrop": sc.get("capabilities", {}).get("drop", []),
        "noNewPrivileges": sc.get("allowPrivilegeEscalation") is False,
        "ports": sorted(ports.values()),
        "probes": sorted({c[k]["httpGet"]["path"] for k in ("livenessProbe", "readinessProbe", "startupProbe") if "httpGet" in c.get(k, {})}),
    }
    if component == "redis":
        # Kubernetes expands $(VAR) in args from the container's environment.
        run["args"] = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a) for a in run["args"]]
    with open(os.path.join(out, f"{component}.json"), "w", encoding="utf-8") as f:
        json.dump(run, f, indent=1)


def resolve_env(name, env, secrets):
    resolved = {}
    for e in env:
        if "value" in e:
            resolved[e["name"]] = str(e["value"])
            continue
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if check(ref is not None, f"Deployment {name}: {e['name']} is a value or a Secret reference"):
            key = f"{ref['name']}/{ref['key']}"
            if check(key in secrets, f"Deployment {name}: {e['name']} refers to a rendered or given Secret key ({key})"):
                resolved[e["name"]] = secrets[key]
    return resolved


def mounts(name, volume_mounts, volumes, configmaps, directory):
    files, tmpfs = [], []
    for m in volume_mounts:
        volume = volumes.get(m["name"])
        if not check(volume is not None, f"Deployment {name}: volume mount {m['name']} has a volume"):
            continue
        if "emptyDir" in volume:
            tmpfs.append(m["mountPath"])
            continue
        cm = volume.get("configMap")
        if not check(cm is not None, f"Deployment {name}: volume {m['name']} is a ConfigMap or an emptyDir"):
            continue
        data = configmaps.get(cm["name"])
        if not check(data is not None, f"Deployment {name}: ConfigMap {cm['name']} is rendered"):
            continue
        items = cm.get("items") or [{"key": k, "path": k} for k in data]
        source = os.path.join(directory, m["name"])
        os.makedirs(source, exist_ok=True)
        for item in items:
            if check(item["key"] in data, f"Deployment {name}: ConfigMap {cm['name']} has key {item['key']}"):
                with open(os.path.join(source, item["path"]), "w", encoding="utf-8") as f:
                    f.write(data[item["key"]])
        if "subPath" in m:
            files.append({"src": os.path.join(source, m["subPath"]), "dst": m["mountPath"]})
        else:
            files.append({"src": source, "dst": m["mountPath"]})
    return files, tmpfs


def check_services(by_kind, deployments):
    for s in by_kind.get("Service", []):
        name = s["metadata"]["name"]
        targets = [d for d in deployments if matches(s["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        if check(len(targets) == 1, f"Service {name}: its selector matches exactly one Deployment's pods ({len(targets)})"):
            c = targets[0]["spec"]["template"]["spec"]["containers"][0]
            names = {p.get("name") for p in c.get("ports", [])}
            for p in s["spec"]["ports"]:
                check(p["targetPort"] in names, f"Service {name}: target port {p['targetPort']} is a container port")


def check_disruption_budgets(by_kind, deployments):
    for b in by_kind.get("PodDisruptionBudget", []):
        name = b["metadata"]["name"]
        targets = [d for d in deployments if matches(b["spec"]["selector"]["matchLabels"], d["spec"]["template"]["metadata"]["labels"])]
        if check(len(targets) == 1, f"PodDisruptionBudget {name}: selects exactly one Deployment's pods"):
            check(b["spec"]["minAvailable"] < targets[0]["spec"]["replicas"],
                  f"PodDisruptionBudget {name}: leaves a pod that may be evicted")


def check_ingress(by_kind):
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    for i in by_kind.get("Ingress", []):
        name = i["metadata"]["name"]
        hosts = set()
        for rule in i["spec"]["rules"]:
            hosts.add(rule["host"])
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                if check(service is not None, f"Ingress {name}: backend Service {backend['name']} is rendered"):
                    check(backend["port"].get("name") in {p["name"] for p in service["spec"]["ports"]},
                          f"Ingress {name}: backend port {backend['port']} is a Service port")
                    check(service["metadata"]["labels"].get("app.kubernetes.io/component") == "api",
                          f"Ingress {name}: routes to the API")
        for tls in i["spec"].get("tls", []):
            check(set(tls["hosts"]) <= hosts and tls.get("secretName"), f"Ingress {name}: TLS covers its hosts with a Secret")


def check_service_monitor(by_kind, configmaps):
    for m in by_kind.get("ServiceMonitor", []):
        name = m["metadata"]["name"]
        selected = [s for s in by_kind.get("Service", [])
                    if matches_expressions(m["spec"]["selector"]["matchExpressions"], s["metadata"]["labels"])]
        components = sorted(s["metadata"]["labels"]["app.kubernetes.io/component"] for s in selected)
        check(components == ["api", "manager"], f"ServiceMonitor {name}: selects the API and manager Services ({components})")
        endpoints = {}
        for data in configmaps.values():
            if "vmpooler.yaml" in data:
                prometheus = (yaml.safe_load(data["vmpooler.yaml"]) or {}).get(":prometheus", {})
                endpoints[prometheus.get("prometheus_endpoint", "/prometheus")] = True
        for e in m["spec"]["endpoints"]:
            check(all(e["port"] in {p["name"] for p in s["spec"]["ports"]} for s in selected),
                  f"ServiceMonitor {name}: port {e['port']} is on every selected Service")
            check(e.get("path") in endpoints, f"ServiceMonitor {name}: path {e.get('path')} is the configured prometheus_endpoint")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
