"""The rendered chart through the checkov security scanner (pinned in scripts/install-checkov).

No finding fails. The ones that follow from a default value carry a checkov skip annotation with its reason
(also in charts/capctl/README.md, "Security scan"), and disappear when the value that fixes them is set.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.test_chart import CHART, MINIMAL, NAMESPACE, NONDEFAULT, RELEASE, run_helm
from tests.chart.test_chart import helm as helm  # fixture
from tests.support.tools import tool_path

pytestmark = pytest.mark.helm

DIGEST = "sha256:" + "ab" * 32
DEFAULT_SKIPS = {"CKV_K8S_11", "CKV_K8S_43", "CKV_K8S_15", "CKV2_K8S_6"}
VARIANTS: dict[str, tuple[str, ...]] = {
    "default": MINIMAL,
    "nondefault": (*MINIMAL, "-f", str(NONDEFAULT)),  # digest, CPU limit and NetworkPolicy set; pullPolicy left
    "hardened": (
        *MINIMAL,
        "--set", f"image.digest={DIGEST},image.pullPolicy=Always,resources.limits.cpu=500m",
        "--set", "networkPolicy.enabled=true",
    ),
}  # fmt: skip


def without_skips(manifests: str) -> str:
    """The default manifests with checkov's skip annotations removed: what the scanner would report."""
    docs = [d for d in yaml.safe_load_all(manifests) if d]
    for d in docs:
        annotations = d["metadata"].get("annotations", {})
        for key in [k for k in annotations if k.startswith("checkov.io/")]:
            del annotations[key]
    return yaml.safe_dump_all(docs)


@pytest.fixture(scope="module")
def scans(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """checkov's results per variant. One run per file (checkov links a NetworkPolicy to the pods of every file
    it scans together), all started at once: each spends most of its ~8 s starting up, not computing."""
    checkov = tool_path("checkov")
    root = tmp_path_factory.mktemp("rendered")
    for name, args in VARIANTS.items():
        result = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args)
        assert result.returncode == 0, result.stderr
        (root / f"{name}.yaml").write_text(result.stdout)
    (root / "unannotated.yaml").write_text(without_skips((root / "default.yaml").read_text()))
    runs = {
        name: subprocess.Popen(
            [str(checkov), "-f", f"{name}.yaml", "--framework", "kubernetes", "--skip-download", "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for name in [*VARIANTS, "unannotated"]
    }
    out: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        stdout, stderr = run.communicate(timeout=300)
        assert run.returncode in (0, 1), stderr  # 1: some check failed
        results = json.loads(stdout)["results"]
        out[name] = {
            "passed": {c["check_id"] for c in results["passed_checks"]},
            "failed": {c["check_id"] for c in results["failed_checks"]},
            "skipped": {c["check_id"]: c["check_result"]["suppress_comment"] for c in results["skipped_checks"]},
        }
    return out


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_check_fails(scans: dict[str, dict[str, Any]], variant: str) -> None:
    scan = scans[variant]
    assert scan["failed"] == set(), f"checkov findings on the {variant} chart: {sorted(scan['failed'])}"
    assert len(scan["passed"]) > 50  # the scanner really looked at the manifests
    assert "CKV_K8S_38" in scan["passed"]  # token mounted only where needed: the explicit projected volume


def test_each_default_finding_is_skipped_with_its_reason(scans: dict[str, dict[str, Any]]) -> None:
    skipped = scans["default"]["skipped"]
    assert set(skipped) == DEFAULT_SKIPS
    fixes = {
        "CKV_K8S_11": "resources.limits.cpu",
        "CKV_K8S_43": "image.digest",
        "CKV_K8S_15": "image.pullPolicy",
        "CKV2_K8S_6": "networkPolicy.enabled",
    }
    readme = (CHART / "README.md").read_text()
    security = readme.split("## Security scan", 1)[1].split("\n## ", 1)[0]
    for check, reason in skipped.items():
        assert fixes[check] in reason, reason  # the reason names the value that removes the finding
        assert check in security, f"{check} is not justified in README's Security scan section"


def test_the_skips_are_what_keeps_the_default_green(scans: dict[str, dict[str, Any]]) -> None:
    """Guard: without the annotations, checkov reports exactly the skipped findings."""
    assert scans["unannotated"]["failed"] == DEFAULT_SKIPS


def test_a_value_that_fixes_a_finding_removes_its_skip(scans: dict[str, dict[str, Any]]) -> None:
    assert set(scans["nondefault"]["skipped"]) == {"CKV_K8S_15"}
    assert scans["hardened"]["skipped"] == {}
    assert scans["hardened"]["passed"] >= DEFAULT_SKIPS
