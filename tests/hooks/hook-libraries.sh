#!/bin/sh
# The hook maps only what an event needs: no libxml2 (with ICU and
# libstdc++), and none of json-glib, GIO or GObject, which only the
# command-line tool's inspection side uses (DEVELOPERS.md, the two paths),
# nor libsoup: in a cluster the hook asks the watch daemon, which holds the
# etcd client (doc/cluster-design.md).
HOOK="$top_builddir/qemu-hook"
if ! command -v ldd >/dev/null 2>&1; then
	echo "1..0 # SKIP ldd is not installed"
	exit 77
fi
echo "1..3"
libs=$(ldd "$HOOK" 2>&1)
bad=$(echo "$libs" | grep -E 'libxml2|libicu|libstdc\+\+|libjson-glib|libgio-2|libgobject-2|libsoup')
if [ -z "$bad" ]; then
	echo "ok 1 - qemu-hook maps no libxml2, ICU, libstdc++, json-glib, GIO, GObject or libsoup"
else
	echo "$bad" | sed 's/^/# /'
	echo "not ok 1 - qemu-hook maps libraries only the command-line tool needs"
fi
if ldd "$top_builddir/blixard-netiso" 2>&1 | grep -q libjson-glib; then
	echo "ok 2 - blixard-netiso links json-glib (the check above can see it)"
else
	echo "not ok 2 - blixard-netiso does not link json-glib: test 1 proves nothing"
fi
if ldd "$top_builddir/blixard-netiso" 2>&1 | grep -q libsoup-3; then
	echo "ok 3 - blixard-netiso links libsoup (watch's etcd client): test 1 can see it"
else
	echo "not ok 3 - blixard-netiso does not link libsoup: test 1 proves nothing about it"
fi
