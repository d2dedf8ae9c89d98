"""The optional NetworkPolicy, read as the CNI would: which connections of the operator pods it lets through."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from tests.chart.test_chart import NAMESPACE, Doc, container, of_kind, one, render
from tests.chart.test_chart import helm as helm  # fixture

pytestmark = pytest.mark.helm

MONITORING = {"kubernetes.io/metadata.name": "monitoring"}
KUBE_SYSTEM = {"kubernetes.io/metadata.name": "kube-system"}


def port_matches(rule: Doc, port: int, protocol: str, named: dict[str, int]) -> bool:
    for p in rule.get("ports", []):
        number = named.get(p["port"], p["port"]) if isinstance(p["port"], str) else p["port"]
        if number == port and p.get("protocol", "TCP") == protocol:
            return True
    return not rule.get("ports")  # a rule without ports allows every port


def peer_matches(peers: list[Doc] | None, ip: str, namespace_labels: dict[str, str] | None) -> bool:
    if not peers:
        return True  # no `from`/`to`: any peer
    for peer in peers:
        if "ipBlock" in peer and ipaddress.ip_address(ip) in ipaddress.ip_network(peer["ipBlock"]["cidr"]):
            return True
        selector = peer.get("namespaceSelector", {}).get("matchLabels")
        if selector is not None and namespace_labels is not None and selector.items() <= namespace_labels.items():
            return True
    return False


def allowed(
    docs: list[Doc], direction: str, port: int, *, protocol: str = "TCP", ip: str = "10.1.2.3",
    namespace: dict[str, str] | None = None,
) -> bool:  # fmt: skip
    """Whether the policy lets the operator pod send (egress) or receive (ingress) this connection."""
    (policy,) = of_kind(docs, "NetworkPolicy")
    named = {p["name"]: p["containerPort"] for p in container(docs)["ports"]}
    key = "to" if direction == "egress" else "from"
    return any(
        port_matches(rule, port, protocol, named) and peer_matches(rule.get(key), ip, namespace)
        for rule in policy["spec"].get(direction, [])
    )


def test_network_policy_is_optional(helm: Path) -> None:
    assert of_kind(render(helm), "NetworkPolicy") == []


def test_policy_selects_the_operator_pods_both_ways(nondefault_docs: list[Doc]) -> None:
    policy = one(nondefault_docs, "NetworkPolicy")
    assert policy["metadata"]["namespace"] == NAMESPACE
    pod_labels = one(nondefault_docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}


@pytest.fixture(scope="module")
def nondefault_docs(helm: Path) -> list[Doc]:
    return render(helm, "-f", str(Path(__file__).with_name("values-nondefault.yaml")))


def test_ingress_only_to_the_metrics_port_from_monitoring(nondefault_docs: list[Doc]) -> None:
    assert allowed(nondefault_docs, "ingress", 9090, namespace=MONITORING)
    assert not allowed(nondefault_docs, "ingress", 9090, namespace={"kubernetes.io/metadata.name": "ent-grand-est"})
    assert not allowed(nondefault_docs, "ingress", 8080, namespace=MONITORING)


def test_egress_to_dns_api_server_and_prometheus_only(nondefault_docs: list[Doc]) -> None:
    docs = nondefault_docs
    for protocol in ("UDP", "TCP"):
        assert allowed(docs, "egress", 53, protocol=protocol, namespace=KUBE_SYSTEM)
    assert not allowed(docs, "egress", 53, protocol="UDP", namespace=MONITORING)
    # values-nondefault: the API server at 192.0.2.10, Prometheus at https://prometheus.monitoring.svc:9091
    for port in (443, 6443):
        assert allowed(docs, "egress", port, ip="192.0.2.10")
        assert not allowed(docs, "egress", port, ip="192.0.2.99")
    assert allowed(docs, "egress", 9091, ip="10.9.9.9")
    for port in (5432, 9090, 80):  # a database, another Prometheus port, plain HTTP
        assert not allowed(docs, "egress", port, ip="10.9.9.9")


def test_defaults_reach_any_api_server_address_and_the_prometheus_url_port(helm: Path) -> None:
    docs = render(helm, "--set", "networkPolicy.enabled=true,prometheus.url=https://prom.example.org/api")
    assert allowed(docs, "egress", 6443, ip="172.20.0.1") and allowed(docs, "egress", 443, ip="10.0.0.1")
    assert allowed(docs, "ingress", 9090, namespace=KUBE_SYSTEM)  # metricsFrom empty: any scraper
    assert not allowed(docs, "egress", 80)  # https: 443 only
    docs = render(helm, "--set", "networkPolicy.enabled=true,prometheus.url=http://prometheus:9090")
    assert allowed(docs, "egress", 9090)
    docs = render(helm, "--set", "networkPolicy.enabled=true")  # no Prometheus: no rule for it
    assert not allowed(docs, "egress", 9090)


def test_configured_ports_and_extra_egress(helm: Path) -> None:
    docs = render(
        helm,
        "--set", "networkPolicy.enabled=true,networkPolicy.apiServer.ports={8443}",
        "--set", "prometheus.url=http://prometheus:9090,networkPolicy.prometheus.port=19090",
        "--set", "networkPolicy.extraEgress[0].ports[0].port=16443",
        "--set", "networkPolicy.extraEgress[0].to[0].ipBlock.cidr=198.51.100.0/24",
    )  # fmt: skip
    assert allowed(docs, "egress", 8443) and not allowed(docs, "egress", 6443)
    assert allowed(docs, "egress", 19090) and not allowed(docs, "egress", 9090)
    assert allowed(docs, "egress", 16443, ip="198.51.100.7") and not allowed(docs, "egress", 16443, ip="10.0.0.1")
