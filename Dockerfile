# syntax=docker/dockerfile:1
# smc-gateway image: `docker build -t smc-gateway:0.1.0 .`
# Two stages: the builder installs the gateway and its runtime dependencies into a venv; the
# final stage copies only that venv onto a clean python:3.11-slim (no pip cache, no sources,
# no build tools). UID/GID 10001 and the ports equal the Helm chart's defaults
# (helm/smc-gateway/values.yaml; tests/unit/helm checks both files agree).

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY gateway ./gateway
# requirements.lock pins runtime and dev tools together. Installing the package with the lock
# as constraints makes pip resolve only the runtime dependencies ([project].dependencies)
# while taking every version from the lock; PIP_CONSTRAINT also pins the build backend
# (setuptools) in pip's isolated build environment. The package is installed non-editable;
# then the venv's own pip and setuptools go (nothing is installed at runtime).
RUN PIP_CONSTRAINT=/src/requirements.lock /opt/venv/bin/pip install /src \
 && /opt/venv/bin/python -m pip uninstall --yes setuptools pip \
 && /opt/venv/bin/smc-gateway --version

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SMC_GATEWAY_HOST=0.0.0.0 \
    SMC_GATEWAY_GRPC_PORT=50051 \
    SMC_GATEWAY_HTTP_PORT=8080
RUN groupadd --system --gid 10001 smc-gateway \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin smc-gateway
COPY --from=builder /opt/venv /opt/venv
USER 10001:10001
# gRPC, then HTTP (REST, /healthz, /readyz, /metrics).
EXPOSE 50051 8080
ENTRYPOINT ["smc-gateway"]
CMD ["serve"]
