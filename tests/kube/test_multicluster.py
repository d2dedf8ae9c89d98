"""One instance steers plaques in two clusters: the topology names a kubeconfig context per plaque."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import yaml

from capacity.common.timegrid import PARIS
from capacity.operator.decide import Mode
from capacity.operator.kube.api import KubeSettings
from capacity.operator.wiring import OperatorOptions, build_operator
from tests.kube.conftest import HOME, HPA_MIN, POLICIES, all_hpas, cached_calendar, seed
from tests.support.fake_kube import FakeKube


def two_context_kubeconfig(home: FakeKube, other: FakeKube, path: Path) -> Path:
    a, b = home.kubeconfig_dict(), other.kubeconfig_dict()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "home", "cluster": a["clusters"][0]["cluster"]},
                     {"name": "normandie", "cluster": b["clusters"][0]["cluster"]}],
        "users": [{"name": "home", "user": a["users"][0]["user"]},
                  {"name": "normandie", "user": b["users"][0]["user"]}],
        "contexts": [{"name": "home", "context": {"cluster": "home", "user": "home"}},
                     {"name": "normandie", "context": {"cluster": "normandie", "user": "normandie"}}],
        "current-context": "home",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_plaque_in_another_cluster_is_steered_through_its_context(fake_kube: FakeKube, tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    topo = policies / "topology.yaml"
    text = topo.read_text()
    anchor = "    namespace: ent-seine-maritime\n"
    topo.write_text(text.replace(anchor, anchor + "    kube_context: normandie\n"))
    with FakeKube() as other:
        seed(fake_kube, policies)
        seed(other, policies)
        fake_kube.clear_log()
        other.clear_log()
        kubeconfig = two_context_kubeconfig(fake_kube, other, tmp_path / "kubeconfig")
        operator = build_operator(
            OperatorOptions(
                policies=policies,
                mode=Mode.FLOOR,
                identity="a",
                namespace=HOME,
                kube=KubeSettings(kubeconfig=kubeconfig),
            ),
            calendar_loader=cached_calendar,
        )
        controller, clients = operator.controller, operator.clients
        assert controller.tick(datetime(2021, 4, 26, 6, 30, tzinfo=PARIS)).ok
        home_hpas, other_hpas = all_hpas(fake_kube), all_hpas(other)
        # seine-maritime changed in its own cluster only; the others in the home cluster only
        assert other_hpas[("ent-seine-maritime", "api")][0] > HPA_MIN
        assert home_hpas[("ent-seine-maritime", "api")][0] == HPA_MIN
        assert home_hpas[("ent-grand-est", "api")][0] > HPA_MIN
        assert other_hpas[("ent-grand-est", "api")][0] == HPA_MIN
        touched = {re.search(r"/namespaces/([^/]+)/", w.path).group(1) for w in other.writes()}  # type: ignore[union-attr]
        assert touched == {"ent-seine-maritime"}  # its HPAs and their Events
        # the Lease and the state live in the home cluster
        assert not [w for w in other.writes() if "/leases" in w.path or "/configmaps" in w.path]
        assert [w for w in fake_kube.writes() if "/configmaps" in w.path]
        clients.close()
