#!/bin/sh
# Runs one libFuzzer harness for a while on a corpus directory seeded from
# the test data, with the harness's dictionary; crash inputs are kept under
# fuzz/artifacts/ of the build directory. Used by make fuzz-run and tests/fuzz/smoke.sh.
# usage: run.sh SRCDIR HARNESS SECONDS CORPUS_ROOT [LIBFUZZER-OPTION...]
set -eu
srcdir=$1 harness=$2 seconds=$3 corpus_root=$4
shift 4
name=${harness##*fuzz-}
seeds=$(mktemp -d "${TMPDIR:-/tmp}/blixard-netiso-seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT

case $name in
config) dict=toml.dict
	set -- "$@" -max_len=8192
	files="tests/data/config/*.toml tests/data/golden/*.toml xml/blixard.toml fuzz/seeds/config/*" ;;
domain|xmlread) dict=xml.dict
	set -- "$@" -max_len=16384
	files="xml/samples/*.xml tests/data/golden/*.xml fuzz/seeds/domain/*" ;;
record) dict=record.dict
	set -- "$@" -max_len=4096
	files="tests/data/golden/*.state fuzz/seeds/record/*" ;;
*) echo "run.sh: unknown harness '$harness'" >&2; exit 2 ;;
esac
# Seeds are copied flat: libFuzzer reads directories, and names must not collide.
for f in $(cd "$srcdir" && echo $files); do
	if [ -f "$srcdir/$f" ]; then cp "$srcdir/$f" "$seeds/$(echo "$f" | tr / _)"; fi
done
mkdir -p "$corpus_root/$name" fuzz/artifacts
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-dict="$srcdir/fuzz/$dict" -artifact_prefix="fuzz/artifacts/$name-" \
	-print_final_stats=1 "$@" "$corpus_root/$name" "$seeds"
