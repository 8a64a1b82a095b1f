# Data path: TCP throughput from guest 1 to guest 2 of a host, routed
# through the host namespace and whatever firewall it holds (small packets:
# netiso-bench-blast), and the summaries of both. Sourced by run-all.sh after
# lib-bench.sh. Each configuration is its own host, so the rounds alternate
# between them without reloading rules.
# shellcheck shell=bash

# A firewall that only tracks connections: the floor any stateful firewall
# pays, and the baseline the targets are stated against.
ct_only_ruleset() {
	cat <<'EOF'
table inet ctonly {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
	}
}
EOF
}

# dp_server_up HOST: an iperf3 server in guest 2, stopped with the run.
dp_server_up() {
	local ns
	ns="$(host_ns "$1")-g2"
	ip netns exec "$ns" iperf3 -s -B "$(guest_addr4 2)" >/dev/null 2>&1 &
	PIDS+=($!)
}

# dp_reachable HOST: guest 1 reaches guest 2 (the firewall lets the pair talk).
dp_reachable() {
	ip netns exec "$(host_ns "$1")-g1" ping -c1 -W1 "$(guest_addr4 2)" >/dev/null 2>&1
}

# json_field FILE PYTHON-EXPRESSION-ON-j: one value from iperf3's JSON.
json_field() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# dp_tcp HOST SECONDS: one TCP stream's throughput in Gbit/s ("fail" if none).
dp_tcp() {
	local out="$WORK/iperf-$1.json" v
	ip netns exec "$(host_ns "$1")-g1" timeout $(($2 + 15)) \
		iperf3 -c "$(guest_addr4 2)" -t "$2" -J >"$out" 2>/dev/null
	v=$(json_field "$out" 'j["end"]["sum_received"]["bits_per_second"] / 1e9')
	echo "${v:-fail}"
}

# dp_ratio FILE CONFIG TEST BASE: "median (min–max)" of CONFIG's per-round
# ratio to BASE, from lines "ROUND CONFIG TEST VALUE".
dp_ratio() {
	awk -v c="$2" -v t="$3" -v b="$4" '$3 == t && $2 == c { v[$1] = $4 }
		$3 == t && $2 == b { base[$1] = $4 }
		END { for (r in v) if (v[r] != "fail" && base[r] != "fail" && base[r] > 0)
			print v[r] / base[r] }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n/a"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f (%.2f–%.2f)\n", m, v[1], v[NR] }'
}

dp_median() {
	awk -v c="$2" -v t="$3" '$2 == c && $3 == t && $4 != "fail" { print $4 }' "$1" | median
}
