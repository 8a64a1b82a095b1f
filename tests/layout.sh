#!/bin/sh
# The source tree's shape, as a test: no include cycle between modules and
# every include pointing down the layers (scripts/check-includes), and every
# C file as clang-format (the project's .clang-format) would write it.

echo "1..2"
if out=$("$top_srcdir/scripts/check-includes" "$top_srcdir" 2>&1); then
	echo "ok 1 - includes: $out"
else
	echo "$out" | sed 's/^/# /'
	echo "not ok 1 - includes break the layout"
fi

if ! command -v clang-format >/dev/null 2>&1; then
	echo "ok 2 # SKIP clang-format is not installed (scripts/install-deps installs it)"
	exit 0
fi
changed=""
for f in $(cd "$top_srcdir" && find src hooks tests fuzz bench -name '*.[ch]' | sort); do
	if ! clang-format --style=file:"$top_srcdir/.clang-format" "$top_srcdir/$f" |
		cmp -s - "$top_srcdir/$f"; then
		changed="$changed $f"
	fi
done
if [ -z "$changed" ]; then
	echo "ok 2 - clang-format leaves every C file unchanged"
else
	echo "# clang-format would change:$changed"
	echo "not ok 2 - clang-format would change $(echo $changed | wc -w) files (run clang-format -i)"
fi
