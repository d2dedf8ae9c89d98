# syntax=docker/dockerfile:1
# capctl operator image: a virtualenv built in a throw-away stage, copied into a clean slim image that runs
# as an unprivileged user (uid 10001, the uid the Helm chart enforces) with a read-only root filesystem.
#
#   docker build -t capctl:0.1.0 .
#   docker run --rm capctl:0.1.0 --help
ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/capctl
WORKDIR /src

# Dependencies first, from pyproject.toml alone: a change to the code does not re-download them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/capctl/bin/pip install --requirement /tmp/requirements.txt

# Then capctl itself, as a wheel (package data included), without touching the resolved dependencies.
COPY . .
RUN /opt/capctl/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/capctl/bin/pip install --no-deps /wheels/capctl-*.whl \
    && /opt/capctl/bin/pip check \
    && /opt/capctl/bin/capctl --help > /dev/null \
    && /opt/capctl/bin/pip uninstall --yes pip setuptools wheel

# ------------------------------------------------------------------------------------------------ final
FROM ${PYTHON_IMAGE}

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="capctl" \
      org.opencontainers.image.description="Calendar-aware capacity controller for ENT plaques" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# No home directory: HOME and matplotlib's cache point at /tmp, the only writable path in the pod.
RUN groupadd --system --gid 10001 capctl \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin capctl

COPY --from=builder /opt/capctl /opt/capctl

ENV PATH="/opt/capctl/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    MPLBACKEND=Agg

USER 10001:10001
EXPOSE 9090

# capctl is PID 1: it handles SIGTERM itself (releases the Lease) and is the only process in the container.
ENTRYPOINT ["capctl"]
# The Helm chart replaces these arguments; they are what a bare `docker run` gets.
CMD ["run", "--policies", "/etc/capctl/policies", "--events", "/etc/capctl/events", "--mode", "recommend", \
     "--tick", "60", "--metrics-address", "0.0.0.0", "--metrics-port", "9090", "--lease-name", "capctl", \
     "--lease-namespace", "default", "--log-format", "json"]
