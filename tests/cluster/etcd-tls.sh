#!/bin/bash
# TLS with client certificates, as production etcd runs: certificates made
# here with openssl, one member requiring client certificates. Calls, claims
# and a watch succeed with the right files; a missing client certificate, an
# untrusted server, a client certificate of another CA and a server
# certificate for another address are all refused.
set -u
. "$top_srcdir/tests/cluster/lib-etcd.sh"
require_root_tier ip etcd etcdctl openssl
[ -x "$PROBE" ] || tap_skip_all "needs $PROBE (make check builds it)"
TAP_LOG="$WORK/tap.log"

# LeakSanitizer (GCC 12's) crashes scanning the dynamic TLS of glib-networking's
# GnuTLS module, loaded by dlopen() ("Tracer caught signal 11 ... DTLS"): no
# leak detection here; the other cluster tests keep it.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

PKI="$WORK/pki"
mkdir -p "$PKI"
# make_ca NAME
make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
# make_cert CA NAME USAGE SAN
make_cert() {
	local ca=$1 name=$2 usage=$3 san=$4
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$name" 2>/dev/null
	printf 'extendedKeyUsage = %s\n%s' "$usage" "${san:+subjectAltName = $san}" >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.pem" -CAkey "$PKI/$ca.key" \
		-CAcreateserial -out "$PKI/$name.pem" -days 2 -extfile "$PKI/$name.ext" 2>/dev/null
}
make_ca ca
make_ca other-ca
# The server certificate names the IPv4 address only: reaching it by its IPv6
# address must fail the name check. etcd 3.4's JSON gateway connects to its own
# gRPC server with the server's key pair, so that certificate must allow
# clientAuth too.
make_cert ca server "serverAuth, clientAuth" "IP:$NET4.11"
make_cert ca client clientAuth ""
make_cert other-ca intruder clientAuth ""
ok "test certificates made with openssl" test -s "$PKI/server.pem" -a -s "$PKI/client.pem" -a -s "$PKI/intruder.pem"

etcd_net_up
ETCD_TLS="$PKI"
etcd_start one 1 "one=http://$(member_addr 1):2380" new
EP="https://$NET4.11:2379"
EP6="https://[${NET6}:11]:2379"
ctl_tls() {
	ETCDCTL_API=3 in_ns "$C" etcdctl --endpoints "$EP" --cacert "$PKI/ca.pem" \
		--cert "$PKI/client.pem" --key "$PKI/client.key" --command-timeout=5s "$@"
}
wait_for 30 ctl_tls endpoint health || {
	echo "Bail out! etcd with TLS did not become healthy"
	tail -n 5 "$WORK/one/log" | sed 's/^/# /'
	exit 1
}
TLS=(--ca "$PKI/ca.pem" --cert "$PKI/client.pem" --key "$PKI/client.key")
out_has() {
	local pattern=$1
	shift
	"$@" >"$WORK/out" 2>&1 && grep -qE -- "$pattern" "$WORK/out" || {
		cat "$WORK/out"
		return 1
	}
}
# refused PATTERN COMMAND...: fails, within the 2 s deadline, with one line of
# ours matching PATTERN. With TLS 1.3 the server refuses a client certificate
# after the handshake; libsoup 3.2.3 then stalls the request (and warns): the
# client's own deadline must end it. Its warning is not ours to count.
refused() {
	local pattern=$1 t0 t1
	shift
	t0=$(now_ms)
	if "$@" >"$WORK/out" 2>&1; then
		echo "unexpectedly succeeded"
		return 1
	fi
	t1=$(now_ms)
	grep -v -e '^$' -e 'libsoup-WARNING' "$WORK/out" >"$WORK/ours"
	cat "$WORK/out"
	echo "($((t1 - t0)) ms)"
	grep -qE -- "$pattern" "$WORK/ours" && [ "$(wc -l <"$WORK/ours")" = 1 ] &&
		[ $((t1 - t0)) -lt 3000 ]
}

ok "put over TLS with a client certificate" probe "$EP" "${TLS[@]}" put /tls/a secret
ok "etcdctl reads it" test "$(ctl_tls get --print-value-only /tls/a)" = secret
ok "get over TLS" out_has '^secret$' probe "$EP" "${TLS[@]}" get /tls/a
L=$(probe "$EP" "${TLS[@]}" grant 60)
probe "$EP" "${TLS[@]}" --node hv-a register "$L" >/dev/null
ok "a claim over TLS" out_has 'created=1' probe "$EP" "${TLS[@]}" --node hv-a --lease-hint "$L" \
	claim 11111111-2222-4333-8444-555555555555 web1 t1 10.0.0.5
for i in $(seq 1 10); do
	probe "$EP" "${TLS[@]}" --node hv-a --lease-hint "$L" \
		claim "$(printf '00000000-0000-4000-a000-%012d' "$i")" w t 10.0.5."$i" || break
done >"$WORK/claims"
ok "10 claims over TLS, one process each" test "$(grep -c '^claimed created=1' "$WORK/claims")" = 10
diag "TLS claim in a fresh process (GnuTLS module, CA, handshake, one txn): $(sed 's/.*ms=//' "$WORK/claims" | sort -n | awk '{a[NR]=$1} END {printf "median %.2f ms, max %.2f ms", a[int((NR+1)/2)], a[NR]}')"
probe_bg "$WORK/w" "$EP" "${TLS[@]}" watch /tls/
W=$LAST_PID
wait_for 10 file_has "$WORK/w" '^connected'
probe "$EP" "${TLS[@]}" put /tls/b watched >/dev/null
ok "a watch over TLS receives events" wait_for 10 file_has "$WORK/w" '^put /tls/b watched'
stop_bg "$W"

ok "no client certificate: refused, and the error names the endpoint" \
	refused "$EP" probe "$EP" --ca "$PKI/ca.pem" get /tls/a
ok "the system's trust store does not know our CA: refused" \
	refused "$EP.*(certificate|unacceptable|trust|issuer)" probe "$EP" --cert "$PKI/client.pem" --key "$PKI/client.key" get /tls/a
ok "a client certificate of another CA: refused" \
	refused "$EP" probe "$EP" --ca "$PKI/ca.pem" --cert "$PKI/intruder.pem" --key "$PKI/intruder.key" get /tls/a
ok "a server certificate for another address: refused" \
	refused "certificate|identity|unacceptable" probe "$EP6" "${TLS[@]}" get /tls/a
ok "plain HTTP to a TLS member: refused" refused "http://$NET4.11:2379" probe "http://$NET4.11:2379" get /tls/a
ok "a certificate without its key is an options error (exit 2)" \
	bash -c "'$PROBE' --endpoints '$EP' --cert '$PKI/client.pem' get /x 2>&1; test \$? = 2"
ok "a missing CA file is named in the error" \
	refused "ca_file $PKI/nope.pem" probe "$EP" --ca "$PKI/nope.pem" get /x

ok "no sanitizer report from a background probe" no_sanitizer_reports
done_testing
