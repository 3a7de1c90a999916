#!/usr/bin/env bash
# Re-vendor the front-end assets from the npm registry into static/vendor/.
#
# Each package is fetched with `npm pack NAME@VERSION` (no install, no scripts run), its tarball
# is checked against the sha512 integrity the registry publishes, and only the built file(s) plus
# the licence are copied to static/vendor/<name>-<version>/.  static/vendor/README.md is rewritten
# from the same table, so the versions pinned here are the single record of what is vendored.
# No CDN is used anywhere: pages load these files through {% static %}.
#
# Usage: scripts/vendor-assets.sh            (from anywhere; needs node/npm and network to the registry)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/static/vendor"

# name | npm package@version | licence | files to copy (paths inside the tarball's package/ folder)
ASSETS=(
  "htmx.org|htmx.org@2.0.11|0BSD|dist/htmx.min.js"
  "chart.js|chart.js@4.5.1|MIT|dist/chart.umd.min.js"
)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

readme_rows=()
for entry in "${ASSETS[@]}"; do
  IFS='|' read -r name spec licence files <<<"$entry"
  version="${spec##*@}"
  dest="$VENDOR/$name-$version"

  # npm pack prints the tarball's file name (scoped packages become scope-name-version.tgz).
  tarball="$WORK/$(cd "$WORK" && npm pack --silent "$spec" | tail -n1)"
  integrity="$(npm view --silent "$spec" dist.integrity)"

  # Verify the tarball against the registry's published integrity before trusting its contents.
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$actual" != "$integrity" ]]; then
    echo "integrity mismatch for $spec: registry $integrity, tarball $actual" >&2
    exit 1
  fi

  unpack="$WORK/$name"
  mkdir -p "$unpack"
  tar -xzf "$tarball" -C "$unpack"

  rm -rf "$dest"
  mkdir -p "$dest"
  # Built files land flat beside the licence: static/vendor/<name>-<version>/<file>.
  for file in $files; do
    cp "$unpack/package/$file" "$dest/$(basename "$file")"
    # A file that names its source map needs the map beside it: the manifest static storage used in
    # production follows sourceMappingURL and fails collectstatic when the target is missing.
    if grep -q 'sourceMappingURL=' "$unpack/package/$file" && [[ -f "$unpack/package/$file.map" ]]; then
      cp "$unpack/package/$file.map" "$dest/$(basename "$file").map"
    fi
  done
  # Packages name their licence LICENSE, LICENSE.md or LICENSE.txt; keep it under its own name.
  licence_file="$(find "$unpack/package" -maxdepth 1 -iname 'LICENSE*' | sort | head -n1)"
  if [[ -z "$licence_file" ]]; then
    echo "no licence file in $spec" >&2
    exit 1
  fi
  cp "$licence_file" "$dest/"

  readme_rows+=("| $name | $version | \`$spec\` | $licence | $(for f in $files; do printf '%s ' "$(basename "$f")"; done | sed 's/ $//; s/ /, /g') | \`$integrity\` |")
  echo "vendored $spec -> ${dest#"$ROOT"/}"
done

{
  echo "# Vendored front-end assets"
  echo
  echo "Fetched from the npm registry by \`scripts/vendor-assets.sh\` (edit the versions there and re-run it)."
  echo "Each folder holds only the built file(s) the pages load (with the source map a file names) and the package's licence."
  echo "The integrity is the npm tarball's sha512 (\`npm view NAME@VERSION dist.integrity\`), checked by the script."
  echo
  echo "| name | version | npm package | licence | files | tarball integrity |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${readme_rows[@]}"
} >"$VENDOR/README.md"
