#!/usr/bin/env bash
# System tools the test suite uses beyond the venv: Debian's Chromium (headless screenshot of the
# HTML report). Idempotent; skipped with a note when not root or without apt-get (the test that
# needs Chromium then skips with the reason).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[test-tools] chromium not installed and cannot apt-get it here; the report screenshot test will skip"
  exit 0
fi
echo "[test-tools] installing Debian's chromium (headless report screenshots)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
