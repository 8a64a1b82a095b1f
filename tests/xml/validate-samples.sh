#!/bin/sh
# Checks the shipped sample domains against libvirt's own schema (what libvirt
# 9.0 accepts) and their blixard metadata against xml/netiso-metadata.rng. TAP.
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
schema=$srcdir/xml/netiso-metadata.rng
ns=urn:blixard:network-isolation:1
xpath="//*[local-name()='isolation' and namespace-uri()='$ns']"

# automake's TAP driver turns any non-zero exit status (77 included) into an
# ERROR, so a skip is announced with a "1..0 # SKIP" plan and exit status 0.
skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}
PATH=$PATH:/usr/sbin:/sbin
command -v virt-xml-validate >/dev/null 2>&1 ||
        skip_all "virt-xml-validate not found (package libvirt-clients)"
command -v xmllint >/dev/null 2>&1 || skip_all "xmllint not found (package libxml2-utils)"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

samples=$(ls "$srcdir"/xml/samples/*.xml)
cat >"$tmp/bad-tenants" <<'END'
a;b
x" ; flush ruleset
$(reboot)
has space

-leading-dash
.leading-dot
prodаction
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
END
n=0
result() {   # result OK|FAIL DESCRIPTION [LOG]
        n=$((n + 1))
        if [ "$1" = OK ]; then
                echo "ok $n - $2"
        else
                echo "not ok $n - $2"
                [ -n "${3:-}" ] && sed 's/^/# /' "$3"
        fi
}

count=0
for f in $samples; do count=$((count + 2)); done
echo "1..$((count + $(wc -l <"$tmp/bad-tenants") + 4))"

for f in $samples; do
        name=$(basename "$f")
        if virt-xml-validate "$f" domain >"$tmp/log" 2>&1; then
                result OK "$name is a valid libvirt domain"
        else
                result FAIL "$name is a valid libvirt domain" "$tmp/log"
        fi

        # Samples of the tenant "default" carry no element of ours.
        if ! xmllint --xpath "$xpath" "$f" >"$tmp/meta.xml" 2>"$tmp/log"; then
                if grep -q 'XPath set is empty' "$tmp/log"; then
                        result OK "$name has no blixard metadata (tenant default)"
                else
                        result FAIL "$name: cannot extract the metadata" "$tmp/log"
                fi
                continue
        fi
        if xmllint --noout --relaxng "$schema" "$tmp/meta.xml" >"$tmp/log" 2>&1; then
                result OK "$name metadata matches netiso-metadata.rng"
        else
                result FAIL "$name metadata matches netiso-metadata.rng" "$tmp/log"
        fi
done

# The schema must refuse what the hook refuses.
refused() {   # refused DESCRIPTION XML
        printf '%s\n' "$2" >"$tmp/bad.xml"
        if xmllint --noout --relaxng "$schema" "$tmp/bad.xml" >"$tmp/log" 2>&1; then
                result FAIL "schema refuses $1" "$tmp/log"
        else
                result OK "schema refuses $1"
        fi
}
while IFS= read -r tenant; do
        quoted=$(printf '%s' "$tenant" | sed 's/&/\&amp;/g; s/"/\&quot;/g; s/</\&lt;/g')
        refused "tenant '$tenant'" "<netiso:isolation xmlns:netiso=\"$ns\" tenant=\"$quoted\"/>"
done <"$tmp/bad-tenants"
refused "an unknown attribute" "<isolation xmlns=\"$ns\" tenant=\"prod\" tenent=\"prod\"/>"
refused "a missing tenant" "<isolation xmlns=\"$ns\"/>"
refused "isolation in no namespace" "<isolation tenant=\"prod\"/>"

longest=$(printf 'a%.0s' $(seq 63))
printf '<isolation xmlns="%s" tenant="%s"/>\n' "$ns" "$longest" >"$tmp/good.xml"
if xmllint --noout --relaxng "$schema" "$tmp/good.xml" >"$tmp/log" 2>&1; then
        result OK "schema accepts a 63-character tenant"
else
        result FAIL "schema accepts a 63-character tenant" "$tmp/log"
fi
