#!/bin/sh
# Debian's Chromium for the dashboard's browser test (tests/e2e/test_dashboard_browser.py).
# Playwright's own browser download is not used: the test passes executable_path=/usr/bin/chromium.
# Idempotent: does nothing when Chromium is already installed.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
