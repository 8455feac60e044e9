#!/usr/bin/env bash
# podman from the distribution, for tests/e2e/test_deploy_files.py's image build and smoke test
# (skipped where no container runtime runs or the base image cannot be pulled). Idempotent.
set -euo pipefail
if command -v podman >/dev/null 2>&1; then
  echo "podman already installed: $(podman --version)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends podman
podman --version
