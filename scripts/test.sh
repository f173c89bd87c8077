#!/usr/bin/env bash
# scripts/test.sh runs every check of the project: the one command for
# developers (bash scripts/test.sh) and CI (.ci/run execs it).
#
# It installs what is missing when it can, and says what before it does:
# staticcheck with go install (into $(go env GOPATH)/bin); Debian's
# chromium, nodejs and npm with apt-get, system-wide, when run as root; the
# Node packages of internal/interop/node with npm ci (in that directory).
# Then, for the root module and every nested one (each go.mod outside
# node_modules and testdata):
#   gofmt, go vet, staticcheck, go test -race (fuzz seed corpora included),
#   and a short fuzzing burst for every Fuzz target.
# A failing check does not stop the others; the script exits 1 at the end,
# naming every failed check, or prints "wsup: all checks passed".
# The full run takes about 11 minutes on 2 cores; it is what CI runs.
#
# Environment:
#   WSUP_QUICK         1: a fast local loop: no fuzzing and no browser test
#                      (Chromium is neither installed nor started); every
#                      other check runs (about 4.5 minutes on 2 cores).
#                      Never set in CI.
#   WSUP_FUZZTIME      fuzzing time per target (default 5s)
#   WSUP_SKIP_BROWSER  1 skips the headless Chromium test when Chromium is
#                      missing (never set in CI)
set -euo pipefail

readonly STATICCHECK_MODULE=honnef.co/go/tools/cmd/staticcheck
readonly STATICCHECK_VERSION=v0.6.1 # the module version of staticcheck 2025.1.1
readonly FUZZTIME=${WSUP_FUZZTIME:-5s}
readonly TEST_TIMEOUT=8m
readonly QUICK=${WSUP_QUICK:-0}
# go test flags of the quick mode: the browser tests (internal/browser) are
# skipped whether or not Chromium is installed.
quick_test_flags=()
if [ "$QUICK" = 1 ]; then
	quick_test_flags=(-skip '^TestChromium')
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
failed=()

section() {
	printf '\n==== %s (at %ds) ====\n' "$*" "$((SECONDS - started))"
}

# run LABEL CMD...: runs CMD in a subshell; a failure is recorded under
# LABEL and the script goes on.
run() {
	local label=$1
	shift
	echo "+ $*"
	if ! ("$@") </dev/null; then
		echo "FAILED: $label"
		failed+=("$label")
	fi
}

# count_files DIR: prints how many files DIR holds (0 when it is missing).
count_files() {
	if [ -d "$1" ]; then
		find "$1" -type f | wc -l
	else
		echo 0
	fi
}

# fuzz_one MODULE PKG PKGDIR TARGET: fuzzes one target for $FUZZTIME.
# Go 1.26's fuzzing coordinator can report "context deadline exceeded" when
# -fuzztime ends while a worker is busy (go.dev/issue/75804): the target then
# fails although no input failed. A real failure always writes its input
# under PKGDIR/testdata/fuzz/TARGET, so a run that failed that way without
# writing one is run once more; any other failure, or a second one, counts.
fuzz_one() {
	local mod=$1 pkg=$2 dir=$3 target=$4
	local corpus="$dir/testdata/fuzz/$target" log attempt before status
	log=$(mktemp)
	for attempt in 1 2; do
		before=$(count_files "$corpus")
		echo "+ go -C $mod test -run '^\$' -fuzz '^$target\$' -fuzztime $FUZZTIME $pkg"
		status=0
		go -C "$mod" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" </dev/null 2>&1 |
			tee "$log" || status=$?
		[ "$status" = 0 ] && break
		if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" &&
			[ "$(count_files "$corpus")" = "$before" ]; then
			echo "note: $target failed with 'context deadline exceeded' and wrote no failing input (go.dev/issue/75804): running it once more"
			continue
		fi
		break
	done
	rm -f "$log"
	return "$status"
}

# in_dir DIR CMD...: runs CMD in DIR.
in_dir() {
	cd "$1" && shift && "$@"
}

have_chromium() {
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1
}

apt_updated=0
# apt_install PKG...: installs Debian packages when running as root.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "cannot install $* (needs root and apt-get)"
		return 1
	fi
	if [ "$apt_updated" = 0 ]; then
		apt-get update -q
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

section "Setup"
command -v go >/dev/null 2>&1 || { echo "go is not in PATH: install Go 1.25 or newer"; exit 1; }
go version
PATH="$(go env GOPATH)/bin:$PATH"
if [ "$QUICK" = 1 ]; then
	echo "WSUP_QUICK=1: no fuzzing, no browser test (CI runs both)"
fi

readonly NODE_DIR=internal/interop/node
need_staticcheck=0 need_chromium=0 need_npm=0 need_node_modules=0
staticcheck -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})" || need_staticcheck=1
[ "$QUICK" = 1 ] || have_chromium || need_chromium=1
if [ -f "$NODE_DIR/package.json" ]; then
	command -v npm >/dev/null 2>&1 || need_npm=1
	if [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
		[ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
		need_node_modules=1
	fi
fi
# Say what will be installed, and where, before installing anything.
plan=()
[ "$need_staticcheck" = 0 ] || plan+=("staticcheck $STATICCHECK_VERSION (go install, into $(go env GOPATH)/bin)")
[ "$need_chromium" = 0 ] || plan+=("Debian's chromium (apt-get install, system-wide; needs root)")
[ "$need_npm" = 0 ] || plan+=("Debian's nodejs and npm (apt-get install, system-wide; needs root)")
[ "$need_node_modules" = 0 ] || plan+=("the Node packages of $NODE_DIR (npm ci, into $NODE_DIR/node_modules)")
# hub/redis's tests start their own redis-server (Debian's package).
need_redis=0
command -v redis-server >/dev/null 2>&1 || need_redis=1
[ "$need_redis" = 0 ] || plan+=("Debian's redis-server (apt-get install, system-wide; needs root; the tests start their own instances)")
if [ "${#plan[@]}" -gt 0 ]; then
	echo "scripts/test.sh will install what is missing (running as $(id -un), uid $(id -u)):"
	printf '  - %s\n' "${plan[@]}"
else
	echo "nothing to install"
fi

if [ "$need_staticcheck" = 1 ]; then
	echo "installing staticcheck $STATICCHECK_VERSION"
	go install "$STATICCHECK_MODULE@$STATICCHECK_VERSION"
fi
staticcheck -version

if [ "$need_chromium" = 1 ]; then
	echo "chromium is missing: installing Debian's chromium"
	apt_install chromium || echo "WARNING: no chromium: the browser test will fail unless WSUP_SKIP_BROWSER=1"
fi
if [ "$need_redis" = 1 ]; then
	echo "redis-server is missing: installing Debian's redis-server"
	apt_install redis-server || echo "WARNING: no redis-server: the hub/redis tests will fail"
fi
if [ "$QUICK" != 1 ] && have_chromium; then
	# Debian's wrapper script prints a harmless shell warning on some hosts.
	chromium --version 2>/dev/null || true
fi

if [ -f "$NODE_DIR/package.json" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "npm is missing: installing Debian's nodejs and npm"
		apt_install nodejs npm
	fi
	if [ ! -f "$NODE_DIR/node_modules/.package-lock.json" ] ||
		[ "$NODE_DIR/package-lock.json" -nt "$NODE_DIR/node_modules/.package-lock.json" ]; then
		(cd "$NODE_DIR" && npm ci --no-audit --no-fund)
	else
		echo "$NODE_DIR/node_modules is up to date"
	fi
fi

# Every module: the root first, then the nested ones in path order.
mapfile -t modules < <(find . -name go.mod -not -path '*/node_modules/*' -not -path '*/testdata/*' \
	-not -path './.git/*' -printf '%h\n' | sort)
echo "modules: ${modules[*]}"

section "gofmt"
if ! unformatted=$(find . -name '*.go' -not -path '*/node_modules/*' -not -path '*/testdata/*' \
	-not -path './.git/*' -print0 | xargs -0 gofmt -l 2>&1); then
	echo "$unformatted"
	failed+=("gofmt")
elif [ -n "$unformatted" ]; then
	echo "gofmt would change these files (run gofmt -w on them):"
	sed 's/^/  /' <<<"$unformatted"
	failed+=("gofmt")
else
	echo "all Go files are formatted"
fi

section "go vet"
for mod in "${modules[@]}"; do
	run "go vet ($mod)" go -C "$mod" vet ./...
done

section "staticcheck"
for mod in "${modules[@]}"; do
	run "staticcheck ($mod)" in_dir "$mod" staticcheck ./...
done

section "go test -race"
for mod in "${modules[@]}"; do
	run "go test ($mod)" go -C "$mod" test -race -count=1 -timeout "$TEST_TIMEOUT" "${quick_test_flags[@]}" ./...
done

section "allocation guards (no -race: sync.Pool drops items under the race detector)"
run "go test -run 'Allocs|Allocation' (.)" go test -count=1 -run 'Allocs|Allocation' ./...

if [ "$QUICK" = 1 ]; then
	section "fuzzing: skipped (WSUP_QUICK=1)"
	modules_to_fuzz=()
else
	section "fuzzing, $FUZZTIME per target"
	modules_to_fuzz=("${modules[@]}")
fi
for mod in "${modules_to_fuzz[@]}"; do
	# Packages whose tests define a fuzz target, confirmed by go test -list.
	while read -r pkg dir; do
		grep -qs '^func Fuzz' "$dir"/*_test.go || continue
		if ! targets=$(go -C "$mod" test -run '^$' -list '^Fuzz' "$pkg" </dev/null); then
			echo "$targets"
			failed+=("listing fuzz targets ($pkg)")
			continue
		fi
		for target in $(grep '^Fuzz' <<<"$targets" || true); do
			if ! fuzz_one "$mod" "$pkg" "$dir" "$target"; then
				echo "FAILED: fuzz $pkg $target"
				failed+=("fuzz $pkg $target")
			fi
		done
	done < <(go -C "$mod" list -f '{{.ImportPath}} {{.Dir}}' ./...)
done

section "Summary"
echo "total time: $((SECONDS - started))s"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "wsup: ${#failed[@]} check(s) failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "wsup: all checks passed"
