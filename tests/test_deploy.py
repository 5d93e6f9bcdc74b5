"""deploy/: the compose file, Prometheus' scrape config, the Grafana dashboard and the Helm
chart name real settings and real metrics, keep secrets out of plain config, and give
every process its probes. No cluster or Docker engine runs here: the chart is rendered by
`helm template` when helm is installed, otherwise by the small renderer below, which
knows exactly the template subset the chart uses (and fails on anything else)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import mcore.metrics  # noqa: F401 - registers every mstack metric
from mcore.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
CHART = DEPLOY / "helm" / "mstack"
SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN")


def setting_exists(var: str) -> bool:
    """Whether an MSTACK_* variable names a setting (MSTACK_GROUP__FIELD for groups)."""
    name = var.removeprefix("MSTACK_").lower()
    group, _, field = name.partition("__")
    if not field:
        return group in Settings.model_fields
    sub = Settings.model_fields.get(group)
    annotation = sub.annotation if sub is not None else None
    return annotation is not None and field in getattr(annotation, "model_fields", {})


def mstack_metric_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("mstack_"):
            names.add(family.name)
            names.update(s.name for s in family.samples)
            names.update(
                f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_count", "_sum")
            )
    return names


# -- compose ----------------------------------------------------------------------------


def test_compose_runs_the_scaled_out_stack_with_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api1", "api2", "worker", "prometheus"} <= set(services)
    for name in ("api1", "api2", "worker", "migrate"):
        env = services[name]["environment"]
        for var in env:
            if var.startswith("MSTACK_"):
                assert setting_exists(var), f"{name}: {var} is not a setting"
        assert env["MSTACK_STORAGE__BACKEND"] == "s3"
        assert env["MSTACK_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["MSTACK_REDIS_URL"].startswith("redis://")
        assert env["MSTACK_JOBS__EMBEDDED_WORKER"] == "false"
        for var, value in env.items():
            if any(word in var for word in SECRET_WORDS) and not var.endswith("_KEY_ID"):
                assert str(value).startswith("${"), f"{var} is written into the compose file"
    assert services["api1"]["command"] == ["mstack", "serve", "--no-migrate"]
    assert services["worker"]["command"][:2] == ["mstack", "worker"]


def test_prometheus_scrapes_every_process() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for s in job["static_configs"] for t in s["targets"]
    }
    assert targets == {"api1:8000", "api2:8000", "worker:9100"}
    worker_port = compose["services"]["worker"]["command"]
    assert worker_port[worker_port.index("--metrics-port") + 1] == "9100"
    api = next(j for j in config["scrape_configs"] if j["job_name"] == "mstack-api")
    assert api["authorization"]["credentials_file"]  # the token, from a file


def test_the_dashboard_queries_metrics_that_exist() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "mstack.json").read_text())
    known = mstack_metric_names()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"\bmstack_[a-z_]+", target["expr"]))
    assert used
    assert used <= known, sorted(used - known)


# -- Helm -------------------------------------------------------------------------------

_TAG = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def _lookup(path: str, scope: dict[str, Any]) -> Any:
    if path.startswith("$"):
        return scope[path]
    value: Any = scope
    for part in path.lstrip(".").split("."):
        value = value[part]
    return value


def _apply(expr: str, scope: dict[str, Any]) -> str:
    parts = [p.strip() for p in expr.split("|")]
    head = parts[0]
    if head.startswith("toYaml "):
        value: Any = yaml.safe_dump(_lookup(head.split()[1], scope), sort_keys=False).rstrip()
    else:
        value = _lookup(head, scope)
    for pipe in parts[1:]:
        if pipe == "quote":
            value = json.dumps(str(value))
        elif pipe.startswith("nindent "):
            pad = " " * int(pipe.split()[1])
            value = "\n" + "\n".join(pad + line for line in str(value).splitlines())
        else:
            raise AssertionError(f"the test renderer does not know `{pipe}`")
    return str(value)


def _render(text: str, scope: dict[str, Any]) -> str:
    tokens: list[tuple[str, str]] = []
    pos = 0
    for match in _TAG.finditer(text):
        chunk = text[pos : match.start()]
        if match.group(1):
            chunk = chunk.rstrip()
        tokens.append(("text", chunk))
        tokens.append(("tag", match.group(2)))
        pos = match.end()
    tokens.append(("text", text[pos:]))

    def block(i: int, scope: dict[str, Any], emit: bool) -> tuple[str, int]:
        out = []
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "text":
                out.append(value if emit else "")
                i += 1
            elif value == "end":
                return "".join(out), i + 1
            elif value.startswith("if "):
                cond = bool(_lookup(value[3:].strip(), scope)) if emit else False
                inner, i = block(i + 1, scope, emit and cond)
                out.append(inner)
            elif value.startswith("range "):
                m = re.fullmatch(r"range (\$\w+), (\$\w+) := (\S+)", value)
                assert m, value
                items = _lookup(m.group(3), scope) if emit else {}
                start = i + 1
                end = block(start, scope, False)[1]
                for k, v in (items or {}).items():
                    inner, _ = block(start, {**scope, m.group(1): k, m.group(2): v}, emit)
                    out.append(inner)
                i = end
            else:
                out.append(_apply(value, scope) if emit else "")
                i += 1
        return "".join(out), i

    rendered, _ = block(0, scope, True)
    return rendered


def render_chart(*sets: str) -> list[dict[str, Any]]:
    """The chart rendered with its values and ``sets`` (``ingress.enabled=false``)."""
    helm = shutil.which("helm")
    if helm is not None:
        args = [helm, "template", "demo", str(CHART)] + [f"--set={s}" for s in sets]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        return [d for d in yaml.safe_load_all(out) if d]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for assignment in sets:
        path, _, raw = assignment.partition("=")
        *parents, leaf = path.split(".")
        target = values
        for key in parents:
            target = target[key]
        target[leaf] = yaml.safe_load(raw)
    scope = {
        "Values": values,
        "Release": {"Name": "demo"},
        "Chart": {"Name": chart["name"], "AppVersion": chart["appVersion"]},
    }
    docs = []
    for template in sorted((CHART / "templates").glob("*.yaml")):
        text = _render(template.read_text(), scope)
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def test_the_chart_renders_every_part_with_probes() -> None:
    docs = render_chart()
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Secret",
            "Deployment",
            "Deployment",
            "Service",
            "Ingress",
            "HorizontalPodAutoscaler",
            "HorizontalPodAutoscaler",
            "Job",
        ]
    )
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == {"demo-api", "demo-worker"}
    for deployment in deployments.values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"]
        assert container["readinessProbe"]["httpGet"]["path"]
        assert container["resources"]["requests"]["cpu"]
        assert container["resources"]["limits"]["memory"]
        refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
        assert refs == {"demo-config", "demo-secrets"}
    api = deployments["demo-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health"
    worker_hpa = next(
        d
        for d in docs
        if d["kind"] == "HorizontalPodAutoscaler" and d["metadata"]["name"] == "demo-worker"
    )
    external = [m for m in worker_hpa["spec"]["metrics"] if m["type"] == "External"]
    assert external[0]["external"]["metric"]["name"] in mstack_metric_names()


def test_no_secret_in_the_config_map_and_every_setting_is_real() -> None:
    docs = render_chart()
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    secret = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    for var in config:
        assert setting_exists(var), f"{var} is not a setting"
        secretish = any(w in var for w in SECRET_WORDS) and not var.endswith("_KEY_ID")
        assert not secretish, f"{var} belongs in the Secret"
        assert "@" not in config[var], f"{var} looks like a URL with credentials"
    assert {"MSTACK_DATABASE_URL", "MSTACK_TOKEN_KEYS", "MSTACK_LINK_KEYS"} <= set(secret)
    for var in secret:
        assert var.startswith("AWS_") or setting_exists(var), var


def test_ingress_can_be_turned_off() -> None:
    assert "Ingress" in {d["kind"] for d in render_chart()}
    assert "Ingress" not in {d["kind"] for d in render_chart("ingress.enabled=false")}
