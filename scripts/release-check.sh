#!/usr/bin/env bash
# Checks the release configuration and builds a snapshot of every target
# with the pinned goreleaser, publishing nothing:
#
#   scripts/release-check.sh             goreleaser check + build --snapshot
#   scripts/release-check.sh --archives  also the archives, checksums and
#                                        changelog (release --snapshot; the
#                                        container image only where docker
#                                        buildx is available)
#
# goreleaser is installed with "go install" on first use into
# ${XDG_CACHE_HOME:-~/.cache}/dyorctl-tools (several minutes, once); set
# GORELEASER=/path/to/goreleaser to use another binary of the same version.
# Works in a clone without a git remote. Leaves the binaries in dist/ and
# the man pages and completions in dist-docs/. Not part of .ci/run: it
# builds twelve binaries (a few minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1 # newer versions need a newer Go than the module's
start=$SECONDS

archives=false
case "${1:-}" in
  "") ;;
  --archives) archives=true ;;
  *) echo "usage: $0 [--archives]" >&2; exit 2 ;;
esac

# --- the pinned goreleaser
has_version() { "$1" --version 2>/dev/null | grep -q "GitVersion: *${GORELEASER_VERSION}\$"; }
if [ -n "${GORELEASER:-}" ]; then
  goreleaser=$GORELEASER
else
  bindir="${XDG_CACHE_HOME:-$HOME/.cache}/dyorctl-tools/goreleaser@${GORELEASER_VERSION}"
  goreleaser="$bindir/goreleaser"
  if ! [ -x "$goreleaser" ] || ! has_version "$goreleaser"; then
    echo "--- installing goreleaser ${GORELEASER_VERSION} into $bindir (once; takes a few minutes)"
    mkdir -p "$bindir"
    GOBIN="$bindir" GOFLAGS= go install "github.com/goreleaser/goreleaser/v2@${GORELEASER_VERSION}"
  fi
fi
if ! has_version "$goreleaser"; then
  echo "$goreleaser is not goreleaser ${GORELEASER_VERSION}:" >&2
  "$goreleaser" --version >&2 || true
  exit 1
fi

# Without a remote, goreleaser's snapshot mode drops all the git
# information (version 0.0.0-SNAPSHOT-none, commit "none"). Give its git
# commands the project's URL through the environment; the repository's
# configuration is not touched.
if ! git ls-remote --get-url >/dev/null 2>&1; then
  n=${GIT_CONFIG_COUNT:-0}
  export "GIT_CONFIG_KEY_$n=remote.origin.url"
  export "GIT_CONFIG_VALUE_$n=https://github.com/dyor-exchange/dyorctl.git"
  export GIT_CONFIG_COUNT=$((n + 1))
fi

echo "--- goreleaser check"
"$goreleaser" check

if $archives; then
  skip=""
  if ! docker buildx version >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "(no docker daemon with buildx: the dyormock image is not built)"
    skip="--skip=docker"
  fi
  echo "--- goreleaser release --snapshot --clean $skip"
  "$goreleaser" release --snapshot --clean $skip
else
  echo "--- goreleaser build --snapshot --clean"
  "$goreleaser" build --snapshot --clean
fi

echo "--- checking dist/"
fail() { echo "release check: $*" >&2; exit 1; }
for os in linux darwin windows; do
  for arch in amd64 arm64; do
    ext=""; [ "$os" = windows ] && ext=.exe
    for bin in dyorctl dyormock; do
      set -- dist/${bin}_${os}_${arch}*/"$bin$ext"
      [ -f "$1" ] || fail "no $bin binary for $os/$arch in dist/"
    done
  done
done
n=$(ls dist/*/dyorctl* | wc -l)
[ "$n" -eq 6 ] || fail "want 6 dyorctl binaries in dist/, found $n"

# The version goreleaser injected, as dist/metadata.json records it.
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[ -n "$version" ] || fail "no version in dist/metadata.json"
case "$version" in *-none) fail "version $version: goreleaser found no git commit" ;; esac
host="$(go env GOOS)_$(go env GOARCH)"
for bin in dyorctl dyormock; do
  set -- dist/${bin}_${host}*/"$bin"
  if [ -x "$1" ]; then
    line=$("$1" version)
    echo "$1 version: $line"
    case "$line" in
      "$bin $version ("*) ;;
      *) fail "$1 version printed \"$line\", want \"$bin $version (…)\"" ;;
    esac
  fi
done

for f in dist-docs/man/dyorctl.1 dist-docs/man/dyorctl-login.1 dist-docs/man/dyormock.1 \
  dist-docs/completions/dyorctl.bash dist-docs/completions/dyormock.zsh; do
  [ -s "$f" ] || fail "$f is missing"
done

if $archives; then
  archive=$(ls dist/dyorctl_*_linux_amd64.tar.gz)
  listing=$(tar -tzf "$archive")
  for f in dyorctl dyormock README.md LICENSE man/man1/dyorctl.1 man/man1/dyorctl-login.1 \
    completions/dyorctl.bash completions/dyorctl.zsh completions/dyorctl.fish completions/dyorctl.ps1; do
    grep -q "/$f\$" <<<"$listing" || fail "$archive lacks $f"
  done
  ls dist/*.zip >/dev/null || fail "no zip archives for windows"
  [ -s "dist/dyorctl_${version}_checksums.txt" ] || fail "no checksums file"
  echo "archives: $(ls dist/*.tar.gz dist/*.zip | wc -l), and their checksums, in dist/ (the changelog is only written for a tag)"
fi

echo "--- release check passed in $((SECONDS - start))s: $(ls dist/*/dyorctl* dist/*/dyormock* | wc -l) binaries, version $version"
