#!/usr/bin/env bash
# Installs the real Centrifugo v6 binary used as a peer by bench/ and as the oracle for wire traces.
# Idempotent: does nothing when a centrifugo binary built from v6.9.1 is already present.
# Usage: scripts/install-centrifugo.sh            (prints the binary's absolute path on the last line)
# Env:   CENTRIFUGO_VERSION (default 6.9.1), GOBIN (default $(go env GOPATH)/bin)
set -euo pipefail

version="${CENTRIFUGO_VERSION:-6.9.1}"
module="github.com/centrifugal/centrifugo/v6"

if ! command -v go >/dev/null 2>&1; then
  echo "install-centrifugo: 'go' is not on PATH (Go >= 1.24 needed)" >&2
  exit 1
fi
gobin="${GOBIN:-$(go env GOPATH)/bin}"
bin="$gobin/centrifugo"

is_wanted() {
  # A release build prints "Centrifugo v6.9.1 ..."; a plain `go install` build prints v0.0.0, so also accept
  # a binary whose embedded module version (go version -m) is the wanted one.
  [ -x "$1" ] || return 1
  "$1" version 2>/dev/null | grep -q "v${version}\b" && return 0
  go version -m "$1" 2>/dev/null | grep -Eq "^\s+mod\s+${module}\s+v${version}\s" && return 0
  return 1
}

if is_wanted "$bin"; then
  echo "install-centrifugo: centrifugo v${version} already installed" >&2
  echo "$bin"
  exit 0
fi

echo "install-centrifugo: go install ${module}@v${version} (takes a few minutes on first run)" >&2
GOBIN="$gobin" go install \
  -ldflags "-X ${module}/internal/build.Version=${version}" \
  "${module}@v${version}"

if ! is_wanted "$bin"; then
  echo "install-centrifugo: install finished but $bin is not v${version}" >&2
  exit 1
fi
"$bin" version >&2
echo "$bin"
