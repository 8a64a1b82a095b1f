#!/bin/bash
# The hook and `explain` under valgrind: every sample and golden domain at
# prepare, hostile inputs the hook refuses, and a teardown with no record,
# with no memory error and no definitely lost block on either path.
set -u
. "$top_srcdir/tests/lib.sh"
command -v valgrind >/dev/null 2>&1 || tap_skip_all "needs valgrind"
HOOK="$top_builddir/qemu-hook"
CLI="$top_builddir/blixard-netiso"
[ -x "$HOOK" ] && [ -x "$CLI" ] || tap_skip_all "hook or CLI not built"
# libnetiso is a static convenience library, so these are the programs
# themselves, not libtool wrapper scripts that valgrind would trace instead.
head -c 4 "$HOOK" | grep -q ELF || tap_skip_all "qemu-hook is a wrapper script, not the program"
# An ASan build (scripts/test's sanitizer stage) cannot run under valgrind.
grep -q __asan_init "$HOOK" && tap_skip_all "ASan build: valgrind runs in the plain build"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/blixard-netiso-valgrind.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
TAP_LOG="$WORK/tap.log"
export BLIXARD_NETISO_CONFIG="$WORK/blixard.toml"
cat >"$BLIXARD_NETISO_CONFIG" <<EOC
[vm.network_isolation]
enabled = true
vm_network = ["10.0.0.0/16", "192.0.2.0/24", "10.30.0.0/16", "fd00:10::/64"]
state_dir = "$WORK/state"
EOC

# 97 is valgrind's, so that the program's own refusal (exit 1) tells apart.
vg() {
	valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$WORK/valgrind.log" "$@"
	local rc=$?
	if [ "$rc" = 97 ]; then
		cat "$WORK/valgrind.log"
		return 1
	fi
	return 0
}

# hook_vg OPERATION SUB FILE: the hook as libvirtd runs it, XML on stdin.
hook_vg() {
	vg "$HOOK" vg-guest "$1" "$2" - <"$3"
}

for xml in "$top_srcdir"/xml/samples/*.xml "$top_srcdir"/tests/data/golden/*.xml; do
	name=${xml#"$top_srcdir"/}
	ok "hook prepare begin, $name: no memory error or leak" hook_vg prepare begin "$xml"
	ok "explain, $name: no memory error or leak" vg "$CLI" explain --domain-xml "$xml"
done

# Refused inputs take the error paths.
python3 - "$WORK" <<'EOP'
import sys
w = sys.argv[1]
def put(name, text):
    with open(f"{w}/{name}", "w") as f:
        f.write(text)
put("deep.xml", "<domain><name>d</name>" + "<a>" * 100000 + "</a>" * 100000 + "</domain>")
put("big.xml", "<domain><name>b</name><description>" + "x" * (10 << 20) + "</description></domain>")
put("laughs.xml", "<!DOCTYPE d [<!ENTITY a 'lol'><!ENTITY b '&a;&a;&a;&a;'>]><domain><name>&b;</name></domain>")
put("tenant.xml", "<domain><name>t</name><metadata><n:isolation xmlns:n='urn:blixard:network-isolation:1' tenant='a;b'/></metadata></domain>")
put("conflict.xml", "<domain><name>c</name><devices>"
    "<interface type='ethernet'><target dev='vnet1'/><source><ip address='10.0.255.254' peer='10.0.0.5'/></source></interface>"
    "<interface type='ethernet'><target dev='vnet2'/><source><ip address='10.0.255.254' peer='10.0.0.5'/></source></interface>"
    "</devices></domain>")
put("broken.xml", "<domain><name>x</name>")
EOP
printf '<domain><name>n\0ul</name></domain>' >"$WORK/nul.xml"
for f in deep big laughs tenant conflict broken nul; do
	ok "hook refuses $f.xml at prepare: no memory error or leak" hook_vg prepare begin "$WORK/$f.xml"
done
ok "hook start refusing a hostile tenant: no memory error or leak" hook_vg start begin "$WORK/tenant.xml"
ok "hook release with no record (lock, state lookup): no memory error or leak" \
	hook_vg release end "$top_srcdir/xml/samples/routed.xml"
ok "check-config: no memory error or leak" vg "$CLI" check-config
done_testing
