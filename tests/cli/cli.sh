#!/bin/bash
# The command line as scripts see it: exit statuses (0, 1, 2), one-line
# errors naming the place, and the read-only commands' output. No root needed.
set -u
. "$top_srcdir/tests/lib.sh"
CLI="$top_builddir/blixard-netiso"
WORK=$(mktemp -d /tmp/blixard-netiso-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TAP_LOG="$WORK/tap.log"
data="$top_srcdir/tests/data"
cfg="$WORK/blixard.toml"
sed "s#^allow_internet = true.*#&\nstate_dir = \"$WORK/state\"#" "$data/golden/seed.toml" >"$cfg"

status_is() { # status_is N CMD...: the command exits with status N
	local want=$1
	shift
	"$@" >"$WORK/out" 2>"$WORK/err"
	[ $? = "$want" ]
}
one_line_error() { # stderr is exactly one line and contains TEXT
	[ "$(wc -l <"$WORK/err")" = 1 ] && grep -qF -- "$1" "$WORK/err"
}

ok "--help lists the commands" sh -c "'$CLI' --help | grep -q reconcile"
ok "--version prints the version" sh -c "'$CLI' --version | grep -q '^blixard-netiso [0-9]'"
ok "no command is a usage error (2)" status_is 2 "$CLI"
ok "an unknown command is a usage error (2)" status_is 2 "$CLI" frobnicate
ok "an unknown option is a usage error (2)" status_is 2 "$CLI" status --frob
ok "check-config accepts the seed's example verbatim" status_is 0 "$CLI" check-config --config "$data/golden/seed.toml"
ok "check-config says what it read" grep -q "ok (isolation enabled, backend nftables, 3 cluster networks, 1 VM networks, 2 allowed ports)" "$WORK/out"
ok "check-config accepts the shipped example" status_is 0 "$CLI" check-config --config "$top_srcdir/xml/blixard.toml"
ok "--config before the command works too" status_is 0 "$CLI" --config "$data/golden/seed.toml" check-config
printf '[vm.network_isolation]\nenabled = true\n\n[[vm.network_isolation.allowed_ports]]\nprotocol = "tcp"\nport = 70000\n' >"$WORK/bad.toml"
ok "a port out of range is a configuration error (2)" status_is 2 "$CLI" check-config --config "$WORK/bad.toml"
ok "... reported in one line with file, line, column and key" one_line_error "bad.toml:6:8: key 'allowed_ports[1].port': 70000 is out of range 1..65535"
ok "check-config reads the cluster table" status_is 0 "$CLI" check-config --config "$data/golden/cluster.toml"
ok "... and says what it found" grep -q "^cluster: node hv-01, prefix /blixard/netiso/, 1 etcd endpoints, lease_ttl 10 s$" "$WORK/out"
sed "s#^node = .*#&\nca_file = \"$WORK/no-ca.pem\"#" "$data/golden/cluster.toml" >"$WORK/cluster-ca.toml"
ok "check-config loads the cluster's TLS files: a missing CA is a configuration error (2)" \
	status_is 2 "$CLI" check-config --config "$WORK/cluster-ca.toml"
ok "... in one line naming the table and the file" one_line_error "[vm.network_isolation.cluster]: etcd ca_file $WORK/no-ca.pem"
sed 's#^backend = .*#backend = "iptables"#' "$data/golden/cluster.toml" >"$WORK/cluster-ipt.toml"
ok "a cluster with the iptables backend is a configuration error (2)" \
	status_is 2 "$CLI" check-config --config "$WORK/cluster-ipt.toml"
ok "... pointing to nftables" one_line_error 'needs backend = "nftables"'
ok "a missing configuration file is an error (2) naming it" status_is 2 "$CLI" check-config --config "$WORK/none.toml"
ok "... in one line" one_line_error "none.toml: cannot read"
ok "explain prints the policy" status_is 0 "$CLI" explain --config "$cfg" --domain-xml "$data/golden/seed.xml"
ok "explain names the tenant and the blocked cluster networks" sh -c "grep -q 'tenant: production' '$WORK/out' && grep -q 'cluster networks: 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12' '$WORK/out'"
ok "explain of every sample domain works or says why the guest is refused" sh -c "
	for f in '$top_srcdir'/xml/samples/*.xml; do
		'$CLI' explain --config '$cfg' --domain-xml \"\$f\" >/dev/null 2>'$WORK/e'; s=\$?
		[ \$s = 0 ] || { [ \$s = 1 ] && grep -q 'the guest would be refused' '$WORK/e'; } || exit 1
	done"
ok "explain of a direct (macvtap) guest: refused (1)" status_is 1 "$CLI" explain --config "$cfg" --domain-xml "$top_srcdir/xml/samples/direct.xml"
ok "explain without --domain-xml is a usage error (2)" status_is 2 "$CLI" explain --config "$cfg"
printf '<domain><name>x</name><metadata><i:isolation xmlns:i="urn:blixard:network-isolation:1" tenant="a;b"/></metadata></domain>' >"$WORK/hostile.xml"
ok "explain of hostile metadata fails (1) with one line naming it" sh -c "'$CLI' explain --config '$cfg' --domain-xml '$WORK/hostile.xml' 2>'$WORK/err'; [ \$? = 1 ] && grep -q \"tenant 'a;b' is invalid\" '$WORK/err'"
ok "apply --dry-run prints the one transaction without touching the kernel" status_is 0 "$CLI" apply --dry-run --config "$cfg" --domain-xml "$data/golden/seed.xml"
ok "... which is the golden transaction" diff -u "$data/golden/seed-apply.nftables" "$WORK/out"
ok "why without --to is a usage error (2)" status_is 2 "$CLI" why --config "$cfg" --from web1
ok "why with an unknown domain is a usage error (2)" status_is 2 "$CLI" why --config "$cfg" --from nobody --to 198.51.100.7:443
ok "... in one line naming it" one_line_error "--from: 'nobody' is neither an address nor a domain installed on this host"
ok "why with a port out of range is a usage error (2)" status_is 2 "$CLI" why --config "$cfg" --from 10.0.1.5 --to 198.51.100.7:70000
ok "... in one line" one_line_error "--to: port '70000' is not a number in 1..65535"
ok "why with an IPv6 address and a port needs brackets (2)" status_is 2 "$CLI" why --config "$cfg" --from 10.0.1.5 --to '[2001:db8::7:443'
ok "--help lists why" sh -c "'$CLI' --help | grep -q '^  why '"
sed -i 's/^enabled = true/enabled = false/' "$cfg"
ok "why with isolation disabled refuses (2) and says so" sh -c "'$CLI' why --config '$cfg' --from 10.0.1.5 --to 198.51.100.7:443 2>'$WORK/err'; [ \$? = 2 ] && grep -q 'isolation is disabled' '$WORK/err'"
ok "apply with isolation disabled refuses (2) and says so" sh -c "'$CLI' apply --config '$cfg' --domain-xml '$data/golden/seed.xml' 2>'$WORK/err'; [ \$? = 2 ] && grep -q 'isolation is disabled' '$WORK/err'"
ok "remove of an unknown domain is not an error" status_is 0 "$CLI" remove --dry-run --config "$cfg" --domain nobody
ok "remove without --domain is a usage error (2)" status_is 2 "$CLI" remove --config "$cfg"

ok "nwfilter --output-dir writes exactly the committed examples" sh -c "
	'$CLI' nwfilter --config '$data/golden/seed.toml' --tenant production --tenant staging \
		--output-dir '$WORK/nwf' && diff -r '$top_srcdir/xml/nwfilter' '$WORK/nwf'"
ok "nwfilter prints XML on stdout by default" sh -c "'$CLI' nwfilter --config '$data/golden/seed.toml' | grep -q \"<filter name='blixard-netiso-tenant-default'\""
ok "nwfilter refuses a hostile tenant name (2)" status_is 2 "$CLI" nwfilter --config "$data/golden/seed.toml" --tenant 'a;b'

done_testing
