#!/bin/sh
# The harness's trace of libvirt's qemu hook calls (E2E_TRACE=1 installs it as
# hooks/qemu.d/00-trace and 99-trace, around the product's hook): one log line per call
# with the time, the phase, the tap, tenant and UUID of the XML given, and that XML kept.
# It prints nothing: at "migrate" and "restore" a hook's output replaces the domain XML.
dir=/run/bxe2e-trace
which=${0##*/}
t=$(date +%s.%N)
xml=$(cat)
mkdir -p "$dir"
field() { printf '%s\n' "$xml" | sed -n "$1" | head -n 1; }
tap=$(field "s/.*<target dev=['\"]\([^'\"]*\)['\"].*/\1/p")
tenant=$(field "s/.*isolation .*tenant=['\"]\([^'\"]*\)['\"].*/\1/p")
uuid=$(field 's/.*<uuid>\(.*\)<\/uuid>.*/\1/p')
printf '%s\n' "$xml" >"$dir/$t.$1.$2.$3.$which.xml"
echo "$t $which $1 $2 $3 ${4:--} tap=${tap:--} tenant=${tenant:--} uuid=${uuid:--} bytes=${#xml}" >>"$dir/log"
exit 0
