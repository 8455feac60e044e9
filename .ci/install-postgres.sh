#!/usr/bin/env bash
# PostgreSQL server binaries for the fault tests (tests/fault start a throwaway cluster with
# initdb + pg_ctl; no service is enabled). Idempotent: does nothing when initdb is present.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgresql already installed: $(ls /usr/lib/postgresql/*/bin/initdb | head -1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends postgresql
ls /usr/lib/postgresql/*/bin/initdb
