#!/bin/sh
# libvirt's own schema check (virt-xml-validate FILE nwfilter) for every filter
# the generator writes, in every test configuration, and for every example
# under xml/nwfilter/. TAP output.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}
dump=$top_builddir/tests/nwfilter/nwfilter-dump

# A skip is the TAP plan "1..0 # SKIP reason". Run by hand the script then
# exits 77 like every other tier; under make check NETISO_SKIP_STATUS=0,
# because automake's TAP driver reports any non-zero exit as an error.
skip_all() {
        echo "1..0 # SKIP $*"
        exit "${NETISO_SKIP_STATUS:-77}"
}

validator=$(command -v virt-xml-validate 2>/dev/null) ||
        skip_all "virt-xml-validate not found (Debian: libvirt-clients)"
[ -x "$dump" ] || { echo "Bail out! $dump is not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/netiso-nwfilter-validate.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

for case in $("$dump" --list); do
        "$dump" "$case" "$tmp/$case" >/dev/null ||
                { echo "Bail out! nwfilter-dump $case failed"; exit 1; }
done

find "$tmp" "$top_srcdir/xml/nwfilter" -name '*.xml' | sort >"$tmp/files"
[ -s "$tmp/files" ] || { echo "Bail out! no filters to validate"; exit 1; }

n=0
while read -r file; do
        n=$((n + 1))
        case $file in
        "$tmp"/*) name=${file#"$tmp"/} ;;
        *) name=xml/nwfilter/${file##*/} ;;
        esac
        if out=$("$validator" "$file" nwfilter 2>&1); then
                echo "ok $n - $name passes libvirt's nwfilter schema"
        else
                echo "not ok $n - $name passes libvirt's nwfilter schema"
                printf '%s\n' "$out" | sed 's/^/# /'
        fi
done <"$tmp/files"
echo "1..$n"
