#!/usr/bin/env bash
# Proves the package as a user gets it: `npm pack`, install the tarball and the Effect 3 peers in
# a temporary project outside the repository, run a plain-Node program, run the `stratadb` command
# (`npx stratadb --help`) and type-check a strict TypeScript consumer against the shipped declarations.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
listing="$(tar -tzf "$work/$tarball")"
echo "packed $tarball: $(wc -l <<< "$listing") files"
for required in package/LICENSE package/README.md package/dist/index.js package/dist/index.d.ts package/dist/Level.js package/dist/Level.d.ts package/dist/cli.js package/doc/log_format.md; do
  grep -qx "$required" <<< "$listing" || { echo "the tarball lacks $required" >&2; exit 1; }
done
if grep -E '^package/(test|bench|\.ci)/' <<< "$listing"; then
  echo "the tarball ships tests, bench or CI" >&2
  exit 1
fi
peers="$(node -e 'const p=require("./package.json");const d=p.devDependencies;console.log(Object.keys(p.peerDependencies).map(n=>n+"@"+d[n]).join(" "))')"
cp "$here/app.mjs" "$here/consumer.ts" "$here/tsconfig.json" "$work/"
cd "$work"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --loglevel=error "./$tarball" $peers typescript@5.9 @types/node@20 >/dev/null
node app.mjs
# The `stratadb` command the package's `bin` installs: its help lists the commands (`--`: the
# flag is the command's, not npx's).
help="$(npx --no -- stratadb --help)"
for command in get put delete scan stats compact approximate-size checkpoint backup verify repair dump-table dump-log manifest; do
  grep -q -- "- $command " <<< "$help" || { printf 'stratadb --help does not list %s:\n%s\n' "$command" "$help" >&2; exit 1; }
done
echo "npx stratadb --help ok"
npx tsc -p tsconfig.json
echo "consumer type check ok (strict, nodenext, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck false)"
