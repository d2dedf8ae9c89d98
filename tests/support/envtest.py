"""A real Kubernetes control plane for the tests: etcd + kube-apiserver (+ kube-controller-manager on demand).

Follows controller-runtime's *envtest* convention: the binaries live in `$KUBEBUILDER_ASSETS`
(`scripts/test` unpacks the repository's copy from `../shared/envtest/` into `.tools/envtest/<version>/`
and exports it; elsewhere `setup-envtest use 1.36.x` installs the same layout). Without them the tests
skip, except under `CI=true` where a missing control plane fails: a green CI run must mean the real API
server was exercised.

One control plane per pytest session (start-up takes 10–20 s on two cores); tests isolate themselves by
namespace (`unique_name`). Everything runs on free loopback ports in a temporary folder, with its own
throw-away PKI (made with `cryptography`): a CA, a serving certificate for 127.0.0.1, an admin client
certificate in `system:masters`, and an RSA key pair for ServiceAccount tokens. Authorization is RBAC, so a
ServiceAccount's own token (TokenRequest API, `ControlPlane.service_account_client`) has exactly the rights
its Roles grant. Processes are stopped by the PID this module started, never by name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import itertools
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ENVTEST_VERSION = "1.36.2"
DEFAULT_ASSETS = REPO / ".tools" / "envtest" / ENVTEST_VERSION
HOW_TO_GET = (
    "no envtest control plane: set KUBEBUILDER_ASSETS to a folder holding etcd and kube-apiserver "
    f"(`setup-envtest use {ENVTEST_VERSION.rsplit('.', 1)[0]}.x`, or run scripts/test, which unpacks "
    f"../shared/envtest/v{ENVTEST_VERSION}-linux-amd64 into {DEFAULT_ASSETS.relative_to(REPO)})"
)
START_TIMEOUT_S = 90.0
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"


# ------------------------------------------------------------------------------------------- assets


def assets_dir() -> Path:
    """The folder with the binaries, or skip (fail under CI) with how to get them."""
    candidates = [Path(p) for p in [os.environ.get("KUBEBUILDER_ASSETS", "")] if p] + [DEFAULT_ASSETS]
    for folder in candidates:
        if all(os.access(folder / b, os.X_OK) for b in ("etcd", "kube-apiserver")):
            return folder
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(HOW_TO_GET)
    pytest.skip(HOW_TO_GET)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_counter = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A DNS-1123 name unique within the session (per-test namespaces on the shared control plane)."""
    return f"{prefix}-{os.getpid() % 10000}-{next(_counter)}"[:63]


# ---------------------------------------------------------------------------------------------- PKI


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path


def make_pki(folder: Path) -> Pki:
    """A throw-away CA, the API server's serving certificate, an admin client certificate, SA keys."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    later = now + dt.timedelta(days=2)

    def write_key(key: Any, path: Path) -> None:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("envtest-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    def leaf(subject: x509.Name, usage: x509.ObjectIdentifier, san: list[x509.GeneralName] | None) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(later)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    serving, serving_key = leaf(
        name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    admin, admin_key = leaf(name("envtest-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH, None)
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    pki = Pki(
        ca_cert=folder / "ca.crt",
        ca_key=folder / "ca.key",
        serving_cert=folder / "apiserver.crt",
        serving_key=folder / "apiserver.key",
        admin_cert=folder / "admin.crt",
        admin_key=folder / "admin.key",
        sa_key=folder / "sa.key",
        sa_pub=folder / "sa.pub",
    )
    pem = serialization.Encoding.PEM
    pki.ca_cert.write_bytes(ca.public_bytes(pem))
    write_key(ca_key, pki.ca_key)
    pki.serving_cert.write_bytes(serving.public_bytes(pem))
    write_key(serving_key, pki.serving_key)
    pki.admin_cert.write_bytes(admin.public_bytes(pem))
    write_key(admin_key, pki.admin_key)
    write_key(sa_key, pki.sa_key)
    pki.sa_pub.write_bytes(sa_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo))
    return pki


# ---------------------------------------------------------------------------------------- processes


@dataclass
class Process:
    """A child process started by this module, its log file, and how to stop it (by its own PID)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.terminate()  # SIGTERM to this PID only
        try:
            self.popen.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(grace_s)


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGKILL when pytest dies without its teardown (e.g. killed)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def start(name: str, argv: list[str], folder: Path) -> Process:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return Process(name, popen, log)


def wait_until(what: str, check: Any, procs: list[Process], timeout_s: float = START_TIMEOUT_S) -> None:
    """Poll `check()` until it returns True; fail early (with logs) when a process dies."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        for p in procs:
            if not p.alive():
                raise RuntimeError(f"{p.name} exited with {p.popen.returncode} while waiting for {what}:\n{p.tail()}")
        try:
            if check():
                return
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name}\n{p.tail()}" for p in procs)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what} ({last})\n{logs}")


# ------------------------------------------------------------------------------------ control plane


@dataclass
class ControlPlane:
    """A running etcd + kube-apiserver; `url` is https://127.0.0.1:<port>."""

    folder: Path
    assets: Path
    pki: Pki
    url: str
    procs: list[Process] = field(default_factory=list)
    started_in_s: float = 0.0
    controller_manager: Process | None = None

    # -- clients

    def admin_client(self) -> Any:
        """A `kubernetes.client.ApiClient` authenticated as a `system:masters` member."""
        from kubernetes import client

        conf = self._configuration()
        conf.cert_file = str(self.pki.admin_cert)
        conf.key_file = str(self.pki.admin_key)
        return client.ApiClient(conf)

    def token_client(self, token: str) -> Any:
        """An ApiClient sending `token` as a bearer token (e.g. a ServiceAccount's)."""
        from kubernetes import client

        conf = self._configuration()
        conf.api_key = {"authorization": f"Bearer {token}"}
        return client.ApiClient(conf)

    def service_account_token(self, namespace: str, name: str, *, seconds: int = 3600) -> str:
        """Create the ServiceAccount if needed, then a token for it through the TokenRequest API."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        with contextlib.closing(self.admin_client()) as api:
            core = client.CoreV1Api(api)
            with contextlib.suppress(ApiException):  # 409: it exists already
                core.create_namespaced_service_account(
                    namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
                )
            spec = client.V1TokenRequestSpec(audiences=[SA_ISSUER], expiration_seconds=seconds)
            req = core.create_namespaced_service_account_token(
                name, namespace, client.AuthenticationV1TokenRequest(spec=spec)
            )
            assert req.status is not None
            return str(req.status.token)

    def service_account_client(self, namespace: str, name: str) -> Any:
        return self.token_client(self.service_account_token(namespace, name))

    def write_kubeconfig(self, path: Path, *, token: str | None = None, context: str = "envtest") -> Path:
        """A kubeconfig for this server: the admin certificate, or `token` when given."""
        user: dict[str, str] = (
            {"token": token}
            if token is not None
            else {"client-certificate": str(self.pki.admin_cert), "client-key": str(self.pki.admin_key)}
        )
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "envtest", "cluster": {"server": self.url,
                                                         "certificate-authority": str(self.pki.ca_cert)}}],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": context, "context": {"cluster": "envtest", "user": "user"}}],
            "current-context": context,
        }  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def _configuration(self) -> Any:
        from kubernetes import client

        conf = client.Configuration()
        conf.host = self.url
        conf.ssl_ca_cert = str(self.pki.ca_cert)
        conf.verify_ssl = True
        conf.retries = False
        return conf

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        ctx.load_cert_chain(str(self.pki.admin_cert), str(self.pki.admin_key))
        return ctx

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, context=self.ssl_context(), timeout=timeout_s) as r:
                return int(r.status), r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    # -- controller manager

    def start_controller_manager(self) -> Process:
        """The real controllers (Deployments → ReplicaSets, the HPA controller, GC…); idempotent."""
        if self.controller_manager is not None and self.controller_manager.alive():
            return self.controller_manager
        binary = self.assets / "kube-controller-manager"
        if not os.access(binary, os.X_OK):
            message = f"kube-controller-manager missing from {self.assets}: {HOW_TO_GET}"
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)
            pytest.skip(message)
        folder = self.folder / "kcm"
        folder.mkdir(exist_ok=True)
        kubeconfig = self.write_kubeconfig(folder / "kubeconfig")
        proc = start(
            "kube-controller-manager",
            [
                str(binary),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                f"--cert-dir={folder}",
                f"--service-account-private-key-file={self.pki.sa_key}",
                f"--root-ca-file={self.pki.ca_cert}",
                f"--cluster-signing-cert-file={self.pki.ca_cert}",
                f"--cluster-signing-key-file={self.pki.ca_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--leader-elect=false",
                "--horizontal-pod-autoscaler-sync-period=1s",
                "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle",
            ],
            folder,
        )
        self.controller_manager = proc
        self.procs.append(proc)
        # It serves no port here (--secure-port=0): callers poll for the effect they need with a bounded
        # timeout; only an early exit (bad flag, unreadable key) is caught here.
        time.sleep(1.0)
        if not proc.alive():
            raise RuntimeError(f"kube-controller-manager exited with {proc.popen.returncode}:\n{proc.tail()}")
        return proc

    def stop_controller_manager(self) -> None:
        if self.controller_manager is not None:
            self.controller_manager.stop()
            self.procs.remove(self.controller_manager)
            self.controller_manager = None

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


def start_control_plane(folder: Path, assets: Path | None = None) -> ControlPlane:
    assets = assets or assets_dir()
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    pki = make_pki(folder / "pki")
    client_port, peer_port, secure_port = free_port(), free_port(), free_port()
    etcd_dir = folder / "etcd"
    etcd_conf = folder / "etcd.yaml"
    client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    etcd_conf.write_text(
        yaml.safe_dump(
            {
                "name": "envtest",
                "data-dir": str(etcd_dir),
                "listen-client-urls": client_url,
                "advertise-client-urls": client_url,
                "listen-peer-urls": peer_url,
                "initial-advertise-peer-urls": peer_url,
                "initial-cluster": f"envtest={peer_url}",
                "initial-cluster-state": "new",
                "unsafe-no-fsync": True,
                "log-level": "warn",
            }
        )
    )
    cp = ControlPlane(folder=folder, assets=assets, pki=pki, url=f"https://127.0.0.1:{secure_port}")
    try:
        etcd = start("etcd", [str(assets / "etcd"), "--config-file", str(etcd_conf)], folder)
        cp.procs.append(etcd)

        def etcd_healthy() -> bool:
            with urllib.request.urlopen(f"{client_url}/health", timeout=2) as r:
                return bool(json.loads(r.read()).get("health") == "true")

        wait_until("etcd /health", etcd_healthy, [etcd])
        apiserver = start(
            "kube-apiserver",
            [
                str(assets / "kube-apiserver"),
                f"--etcd-servers={client_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={secure_port}",
                f"--cert-dir={folder / 'apiserver-certs'}",
                f"--tls-cert-file={pki.serving_cert}",
                f"--tls-private-key-file={pki.serving_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={SA_ISSUER}",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--endpoint-reconciler-type=none",
                "--disable-admission-plugins=ServiceAccount",
                "--profiling=false",
            ],
            folder,
        )
        cp.procs.append(apiserver)
        wait_until("kube-apiserver /readyz", lambda: cp.get("/readyz", timeout_s=3)[0] == 200, [etcd, apiserver])
    except BaseException:
        cp.stop()
        raise
    cp.started_in_s = time.monotonic() - started
    return cp


# ------------------------------------------------------------------------------------------ fixtures

STARTED: list[float] = []  # start-up seconds of the control planes of this session (terminal summary)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line saying what the real control plane cost, when a test started one."""
    for seconds in STARTED:
        terminalreporter.write_line(f"envtest: etcd + kube-apiserver ready in {seconds:.1f} s")


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """One real etcd + kube-apiserver for the whole session (skips, or fails under CI, without assets)."""
    assets = assets_dir()
    cp = start_control_plane(tmp_path_factory.mktemp("envtest"), assets)
    STARTED.append(cp.started_in_s)
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def controller_manager(control_plane: ControlPlane) -> Iterator[ControlPlane]:
    """The shared control plane with kube-controller-manager running for THIS test only.

    Its controllers act on every namespace (the HPA controller writes HPA status, scales Deployments and
    records Events), so it is stopped after the test: the other tests keep a server where only they write.
    """
    control_plane.start_controller_manager()
    try:
        yield control_plane
    finally:
        control_plane.stop_controller_manager()
