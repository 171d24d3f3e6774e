#!/usr/bin/env bash
# Runs the whole test suite and ends with one line: "tests: N passed, N failed, N skipped".
# Installs what the tests use when it is missing: Debian packages (needs root for that), and from
# package.json with npm ci: Azurite, the blob storage emulator, and s3rver, the S3 server, that the
# off-volume tests start, and Railway's SDK with tsx, which evaluate .railway/railway.ts.
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)     # flock; unshare, nsenter, losetup for the deploy rehearsal
command -v mkfs.ext4 >/dev/null 2>&1 || missing+=(e2fsprogs)  # the rehearsal's ext4 volume
command -v sha256sum >/dev/null 2>&1 || missing+=(coreutils)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)        # clocks that step, under the replicator in the history tests
command -v zstd >/dev/null 2>&1 || missing+=(zstd)                # an independent reader of the compressed history segments
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)  # promtool checks the text of /api/metrics
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/azurite-blob ] || [ ! -x node_modules/.bin/s3rver ] || [ ! -x node_modules/.bin/tsx ]; then
  npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed: the off-volume tests need Azurite and s3rver, the railway.ts test the Railway SDK" >&2; echo "tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet build Functions.sln --nologo -v quiet || { echo "tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
status=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" --no-build --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || status=$?
done

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*' "$trx")
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value total) - $(value executed)))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the build or the test host failed before any result was written
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
