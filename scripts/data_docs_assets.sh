#!/usr/bin/env bash
# The JavaScript, CSS and fonts Data Docs load, from the npm registry (idempotent): every
# package in expectations/data_docs/assets.txt is packed with npm, checked against the pinned
# integrity and the listed files copied to .venv/data_docs/static/vendor/<package>/. Nothing is
# loaded from a CDN when a page opens (issue 18).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MANIFEST=expectations/data_docs/assets.txt
DEST=.venv/data_docs/static/vendor
STAMP=.venv/data_docs/.assets.sha256
want="$(sha256sum "$MANIFEST" | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$DEST" ]; then exit 0; fi
command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$DEST"
while read -r spec integrity paths; do
  case "$spec" in '' | '#'*) continue ;; esac
  name="${spec%@*}"
  got="$(cd "$work" && npm pack --silent --json "$spec" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["integrity"])')"
  [ "$got" = "$integrity" ] || { echo "$spec: integrity $got, expected $integrity" >&2; exit 1; }
  tarball="$work/$(echo "${name#@}" | tr / -)-${spec##*@}.tgz"
  mkdir -p "$work/$name" "$DEST/$name"
  tar -xzf "$tarball" -C "$work/$name" --strip-components=1
  for path in $paths; do
    mkdir -p "$DEST/$name/$(dirname "$path")"
    cp -R "$work/$name/$path" "$DEST/$name/$path"
  done
done < "$MANIFEST"
echo "$want" > "$STAMP"
echo "Data Docs assets ready in $DEST ($(du -sh "$DEST" | cut -f1))"
