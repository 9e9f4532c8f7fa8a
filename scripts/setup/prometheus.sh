#!/usr/bin/env bash
# Installs the real Prometheus (2.42, with promtool) and Alertmanager (0.25) the kagent-tools
# tests and the prom_render bench start on loopback ports: Debian's packages `prometheus` and
# `prometheus-alertmanager`, then links the binaries into $KAGENT_TEST_COMPONENTS/bin
# (default: <workspace root>/.test-components/bin), where the tests look for them.
# Installing starts nothing (the tests start their own servers with their own configs; a
# policy-rc.d keeps the packages' init scripts from starting a system-wide server).
# Idempotent: only links when the binaries are already installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${KAGENT_TEST_COMPONENTS:-$ROOT/.test-components}"
BIN="$DEST/bin"

have() { [[ -x /usr/bin/prometheus && -x /usr/bin/promtool && -x /usr/bin/prometheus-alertmanager ]]; }

if ! have; then
    command -v apt-get >/dev/null || { echo "prometheus.sh: apt-get is required (Debian or Ubuntu)" >&2; exit 1; }
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO="sudo"
    POLICY=/usr/sbin/policy-rc.d
    ADDED_POLICY=""
    if [[ ! -e "$POLICY" ]]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
        $SUDO chmod +x "$POLICY"
        ADDED_POLICY=1
    fi
    cleanup() { [[ -z "$ADDED_POLICY" ]] || $SUDO rm -f "$POLICY"; }
    trap cleanup EXIT
    echo "prometheus.sh: apt-get install prometheus prometheus-alertmanager"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        prometheus prometheus-alertmanager >/dev/null
fi
have || { echo "prometheus.sh: the packages installed but the binaries are missing" >&2; exit 1; }

mkdir -p "$BIN"
for b in prometheus promtool prometheus-alertmanager; do
    ln -sf "/usr/bin/$b" "$BIN/$b"
done
echo "prometheus.sh: $("$BIN/prometheus" --version 2>&1 | head -n1)"
echo "prometheus.sh: $("$BIN/prometheus-alertmanager" --version 2>&1 | head -n1)"
