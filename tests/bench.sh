#!/usr/bin/env bash
# tests/bench.sh: `make bench-run`.  One synthetic trace (gentrace, 5M
# packets, ~2.7 GB, kept in bench-data/ and reused while its arguments and
# generator sources are unchanged), measured in one run by:
#
#   floor      $TOOLS/pcapread: pcap_next_ex() and nothing else
#   naive      $TOOLS/naiveflows: pcap_next_ex, a fixed-offset parse and
#              one FNV-1a hash table of 5-tuples (issue 3's "naive loop")
#   sensord    $O/sensord -r FILE -D STATE --summary json (flow engine and
#              flow log on); its JSON gives the flow-table figures
#   softflowd  Debian's softflowd -r FILE -d -c none -6 -m 2000000: offline,
#              foreground, no control socket, no -n so no export socket at
#              all (checked with strace: it opens no socket), flows kept
#              until EOF, so its table holds every conversation
#
# each pinned to one CPU (taskset -c $BENCH_CPU) under /usr/bin/time for
# wall time, CPU time (user + sys) and peak RSS.  The machine is shared, so
# packets per CPU-second is the figure to compare; wall time is shown too.
# Then, when $TOOLS/spoolw exists (`spoolw -d OUTDIR IN.pcap` writes IN
# through the capture writer as one host's capture files under OUTDIR:
# 64 MiB files, level 1, two compression threads), the capture write path
# against `gzip -1` on a 1M-packet prefix trace.
#
# Last, metering with one busy host escalated: sensord on the same trace
# twice more, with a policy that captures nobody ([capture] enabled = no)
# and with the same policy plus hosts/busy.conf, which lets the trace's
# busiest client ($BENCH_BUSY) be captured and gives it an absolute limit
# of one connection a minute, so it is escalated at the first tick and
# stays escalated to the end: the cost of capturing one busy host, packets
# per CPU-second against none (the goal is at least 0.8x).
#
# Knobs: BENCH_PACKETS (5000000), BENCH_SEED (1), BENCH_COMP_PACKETS
# (1000000), BENCH_DIR (bench-data), BENCH_CPU (0), BENCH_TIMEOUT (600 s
# per program), BENCH_BUSY (10.1.0.2).  Nothing is sent on any network.
set -u
cd "$(dirname "$0")/.."
O=${O:-build}
case $O in /*) B=$O ;; *) B=$PWD/$O ;; esac
TOOLS=$B/tests/tools
SENSORD=$B/sensord
DIR=${BENCH_DIR:-bench-data}
N=${BENCH_PACKETS:-5000000}
SEED=${BENCH_SEED:-1}
CN=${BENCH_COMP_PACKETS:-1000000}
CPU=${BENCH_CPU:-0}
TMO=${BENCH_TIMEOUT:-600}
TIMEBIN=${BENCH_TIME:-/usr/bin/time}	# GNU time; else /proc polling

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$TOOLS/gentrace" ] && [ -x "$TOOLS/pcapread" ] ||
	die "tools missing in $TOOLS (run through make bench-run)"
command -v jq >/dev/null || die "jq is needed (make bench installs it)"
mkdir -p "$DIR" || die "cannot create $DIR"
W=$(mktemp -d /tmp/sensord-bench.XXXXXX) || die "mktemp"
trap 'rm -rf "$W"' EXIT

pin=()
command -v taskset >/dev/null && pin=(taskset -c "$CPU")

# measure NAME CMD...: run CMD pinned, stdout in $W/NAME.out, stderr in
# $W/NAME.err.  Sets M_RC, M_WALL and M_CPU (seconds), M_RSS (KiB).
measure() {
	local name=$1 t0 t1 pid hwm st u s tck k v
	shift
	t0=$(date +%s%N)
	if [ -x "$TIMEBIN" ]; then
		"${pin[@]}" "$TIMEBIN" -f '%U %S %M' -o "$W/$name.time" \
		    timeout -k 5 "$TMO" "$@" >"$W/$name.out" 2>"$W/$name.err"
		M_RC=$?
		t1=$(date +%s%N)
		read -r u s M_RSS < <(tail -1 "$W/$name.time")
		M_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	else
		# No GNU time: poll the peak (VmHWM) and the CPU ticks from
		# /proc with builtins until the process is gone; the last
		# poll misses at most its final 50 ms.
		"${pin[@]}" "$@" >"$W/$name.out" 2>"$W/$name.err" &
		pid=$!
		hwm=0 tck=$(getconf CLK_TCK) u=0 s=0
		while [ -r "/proc/$pid/stat" ]; do
			read -r -a st <"/proc/$pid/stat" 2>/dev/null || break
			[ "${st[2]}" = Z ] && break
			u=${st[13]} s=${st[14]}
			while read -r k v _; do
				[ "$k" = VmHWM: ] && [ "$v" -gt "$hwm" ] && hwm=$v
			done <"/proc/$pid/status" 2>/dev/null
			sleep 0.05
		done
		wait "$pid"
		M_RC=$?
		t1=$(date +%s%N)
		M_CPU=$(awk -v u="$u" -v s="$s" -v t="$tck" \
		    'BEGIN { printf "%.2f", (u + s) / t }')
		M_RSS=$hwm
	fi
	M_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}

# best NAME KEY STATEDIR CMD...: measure CMD $RUNS times, each with a fresh
# STATEDIR ("-" for none), and keep the run with the least KEY (cpu or
# wall), outputs included.  The machine is a shared VM whose speed drifts
# by tens of percent within minutes; the best of a few runs is the figure
# least disturbed by neighbours, and every program gets the same chance.
RUNS=${BENCH_RUNS:-3}
# Back-to-back rounds for the ratios a drifting VM disturbs most.
PAIRS=${BENCH_PAIRS:-5}
best() {
	local name=$1 key=$2 st=$3 k v f kept=0 bv=none
	local b_rc b_wall b_cpu b_rss
	shift 3
	for ((k = 1; k <= RUNS; k++)); do
		[ "$st" != - ] && { rm -rf "$st"; mkdir -p "$st"; }
		measure "$name.$k" "$@"
		[ "$key" = cpu ] && v=$M_CPU || v=$M_WALL
		# The first run is kept until a successful, faster one comes.
		if [ "$M_RC" -eq 0 ] && { [ "$bv" = none ] ||
		    awk -v a="$v" -v b="$bv" 'BEGIN { exit !(a < b) }'; }; then
			bv=$v
		elif [ "$kept" -eq 1 ]; then
			continue
		fi
		kept=1 b_rc=$M_RC b_wall=$M_WALL b_cpu=$M_CPU b_rss=$M_RSS
		for f in out err time; do
			[ -f "$W/$name.$k.$f" ] && cp "$W/$name.$k.$f" "$W/$name.$f"
		done
		[ "$st" != - ] && { rm -rf "$st.best"; cp -a "$st" "$st.best"; }
	done
	[ "$st" != - ] && [ -d "$st.best" ] && { rm -rf "$st"; mv "$st.best" "$st"; }
	M_RC=$b_rc M_WALL=$b_wall M_CPU=$b_cpu M_RSS=$b_rss
}

# median X...: the middle value (the lower middle of an even count).
median() {
	printf '%s\n' "$@" | sort -n |
	    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# trace N FILE: make FILE (and FILE.json, the ground truth) unless the
# one there was made with the same arguments and generator sources.
trace() {
	local n=$1 f=$2 want
	want="gentrace -n $n -s $SEED $(cat tests/tools/gentrace.c \
	    tests/tools/gen.h tests/lib/pktgen.h | sha256sum | cut -c1-16)"
	if [ -f "$f" ] && [ -f "$f.json" ] && [ -f "$f.stamp" ] &&
	    [ "$(cat "$f.stamp")" = "$want" ] &&
	    [ "$(stat -c %s "$f")" = "$(jq -r .file_bytes "$f.json")" ]; then
		echo "bench: reusing $f"
		return 0
	fi
	echo "bench: generating $f ($n packets, seed $SEED)"
	rm -f "$f" "$f.json" "$f.stamp"
	"$TOOLS/gentrace" -o "$f.tmp" -n "$n" -s "$SEED" \
	    --truth "$f.json.tmp" || die "gentrace failed"
	mv "$f.tmp" "$f" && mv "$f.json.tmp" "$f.json" &&
	    echo "$want" >"$f.stamp" || die "cannot store $f"
}

# Helpers for the table: n/a propagates.
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
	if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a";
	else printf f "\n", a / b }'; }
rate() { awk -v n="$1" -v t="$2" -v u="$3" 'BEGIN {	# count per s / unit
	if (t == "n/a" || t + 0 == 0) print "n/a"; else printf "%.0f\n", n / t / u }'; }
x() { div "$1" "$2" | sed 's/^\([0-9].*\)/\1x/'; }	# ratio a/b as "1.23x"
mb() { awk -v a="$1" 'BEGIN { if (a == "n/a") print "n/a"; else printf "%.1f\n", a / 1024 }'; }
jget() { # FILE FILTER: a number from sensord's JSON, or n/a
	local v
	v=$(jq -er "$2 // empty" "$1" 2>/dev/null | head -1)
	[[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] && echo "$v" || echo n/a
}

F=$DIR/trace-$N-$SEED.pcap
trace "$N" "$F"
PK=$(jq -r .packets "$F.json")
FB=$(stat -c %s "$F")
echo "bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "bench: trace $(jq -r '"\(.packets) packets, \(.conversations.total)
    conversations (tcp \(.conversations.tcp), udp \(.conversations.udp),
    icmp \(.conversations.icmp)), \(.duration_s | floor) s of traffic,
    IPv6 \(.ipv6_packets) packets, VLAN \(.vlan_packets)"' "$F.json" |
    tr -s '\n ' ' ' | sed 's/ $//')," \
    "$(awk -v b="$FB" 'BEGIN { printf "%.2f GB", b / 1e9 }')"
cat "$F" >/dev/null	# every reader starts from the page cache

# (a) the floor
best floor cpu - "$TOOLS/pcapread" "$F"
fl_rc=$M_RC fl_wall=$M_WALL fl_cpu=$M_CPU fl_rss=$M_RSS
fl_pk=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$W/floor.out")
[ "$fl_rc" -eq 0 ] && [ "${fl_pk:-0}" = "$PK" ] ||
	die "pcapread failed or miscounted: $(cat "$W/floor.out" "$W/floor.err")"

# (a2) a naive flow loop ($TOOLS/naiveflows: pcap_next_ex, fixed-offset
# parse, one FNV-1a open-addressing table of 5-tuples; no expiry, pairing,
# output or hardening): what issue 3's goal means by "faster than a naive
# hash loop while doing real work".
nv_cpu=n/a
if [ -x "$TOOLS/naiveflows" ]; then
	best naive cpu - "$TOOLS/naiveflows" "$F"
	[ "$M_RC" -eq 0 ] && nv_cpu=$M_CPU nv_rss=$M_RSS nv_wall=$M_WALL
fi

# (b) sensord
sd_ok=0
if [ -x "$SENSORD" ]; then
	best sensord cpu "$W/state" "$SENSORD" -r "$F" -D "$W/state" \
	    --summary json
	sd_rc=$M_RC sd_wall=$M_WALL sd_cpu=$M_CPU sd_rss=$M_RSS
	# The summary is the JSON object on stdout (or its last line).
	js=$W/sensord.json
	if jq -e 'type == "object"' "$W/sensord.out" >/dev/null 2>&1; then
		cp "$W/sensord.out" "$js"
	else
		grep '^{' "$W/sensord.out" | tail -1 >"$js"
	fi
	sd_pk=$(jget "$js" .packets)
	sd_created=$(jget "$js" .flows.created)
	sd_records=$(jget "$js" .flows.records)
	sd_cap=$(jget "$js" .flows.capacity)
	sd_bpf=$(jget "$js" .flows.bytes_per_flow)
	sd_evict=$(jget "$js" .flows.evicted)
	[ "$sd_rc" -eq 0 ] && [ "$sd_pk" != n/a ] && sd_ok=1
	[ "$sd_pk" = n/a ] && echo "bench: sensord printed no JSON summary" \
	    "with .packets (got: $(head -c 80 "$W/sensord.out" | head -1))"
	if [ "$sd_rc" -ne 0 ]; then
		echo "bench: sensord exited with status $sd_rc:"
		head -5 "$W/sensord.err" | sed 's/^/    /'
	fi
	[ "$sd_pk" != n/a ] && [ "$sd_pk" != "$PK" ] &&
		echo "bench: WARNING sensord counted $sd_pk packets of $PK"
else
	echo "bench: no $SENSORD"
fi
if [ "$sd_ok" -ne 1 ]; then
	sd_pk=n/a sd_created=n/a sd_records=n/a sd_cap=n/a sd_bpf=n/a
	sd_evict=n/a sd_wall=n/a sd_cpu=n/a sd_rss=n/a
fi

# (c) softflowd
sf_ok=0
sf_cmd=(softflowd -r "$F" -d -c none -6 -m 2000000)
if command -v softflowd >/dev/null; then
	best softflowd cpu - "${sf_cmd[@]}"
	sf_wall=$M_WALL sf_cpu=$M_CPU sf_rss=$M_RSS
	sf_pk=$(sed -n 's/^Packets processed: \([0-9]*\).*/\1/p' "$W/softflowd.out")
	sf_flows=$(sed -n 's/^Flows expired: \([0-9]*\).*/\1/p' "$W/softflowd.out")
	[ "$M_RC" -eq 0 ] && [ -n "$sf_pk" ] && [ -n "$sf_flows" ] && sf_ok=1
	[ "$sf_ok" -eq 1 ] && [ "$sf_pk" != "$PK" ] &&
		echo "bench: WARNING softflowd processed $sf_pk packets of $PK"
	[ "$sf_ok" -eq 1 ] || { echo "bench: softflowd failed (status $M_RC)";
		head -5 "$W/softflowd.err" | sed 's/^/    /'; }
else
	echo "bench: softflowd not installed"
fi
if [ "$sf_ok" -ne 1 ]; then
	sf_pk=n/a sf_flows=n/a sf_wall=n/a sf_cpu=n/a sf_rss=n/a
fi
# sizeof(struct FLOW) in softflowd 1.1.0 on amd64 (DOMAIN.md 1).
sf_bpf=264

# Memory actually paid per tracked flow: peak RSS above the floor's,
# over the flows held at the peak (softflowd keeps all of them until EOF;
# sensord preallocates, so its capacity is the divisor).
rss_per() { awk -v r="$1" -v f="$fl_rss" -v n="$2" 'BEGIN {
	if (r == "n/a" || n == "n/a" || n + 0 == 0) print "n/a";
	else printf "%.0f\n", (r - f) * 1024 / n }'; }

echo
printf '%-11s %8s %8s %9s %9s %9s %10s %9s %9s\n' "" "wall s" "CPU s" \
    "kpps/CPU" "kpps/wall" "RSS MB" "flows" "B/flow" "RSS/flow"
row() {	# name wall cpu rss flows bpf rssflow
	printf '%-11s %8s %8s %9s %9s %9s %10s %9s %9s\n' "$1" "$2" "$3" \
	    "$(rate "$PK" "$3" 1e3)" "$(rate "$PK" "$2" 1e3)" "$(mb "$4")" \
	    "$5" "$6" "$7"
}
row floor "$fl_wall" "$fl_cpu" "$fl_rss" - - -
row sensord "$sd_wall" "$sd_cpu" "$sd_rss" "$sd_created" "$sd_bpf" \
    "$(rss_per "$sd_rss" "$sd_cap")"
row softflowd "$sf_wall" "$sf_cpu" "$sf_rss" "$sf_flows" "$sf_bpf" \
    "$(rss_per "$sf_rss" "$sf_flows")"
echo
echo "sensord flows: created $sd_created, records $sd_records," \
    "capacity $sd_cap, evicted $sd_evict"
echo "sensord vs softflowd: $(x "$sf_cpu" "$sd_cpu") the packets per" \
    "CPU-second ($(x "$sf_wall" "$sd_wall") wall), $(x "$sd_rss" "$sf_rss")" \
    "the peak RSS, $(x "$sd_bpf" "$sf_bpf") the bytes per flow"
echo "sensord vs floor: $(x "$fl_cpu" "$sd_cpu") the floor's packets per" \
    "CPU-second ($(x "$fl_wall" "$sd_wall") wall; 1.00x = as fast as reading)"
echo "(kpps = thousand packets per second; CPU s = user + sys, pinned to CPU $CPU;"
echo " RSS/flow = (peak RSS - floor's) / flows held: softflowd's real cost per flow)"

# (b2) the flow engine and flow log alone: the same replay with a home
# network that holds no host of the trace, so no per-host baselines run
# (softflowd does no detection either).
flows_only=(--home-net 192.0.2.0/32)
if [ "$sd_ok" -eq 1 ]; then
	best sensord_flows cpu "$W/state2" "$SENSORD" -r "$F" -D "$W/state2" \
	    "${flows_only[@]}" --summary json
	fo_kpps=$(awk -v p="$PK" -v c="$M_CPU" 'BEGIN { if (c > 0) printf "%.0f", p / c / 1000; else print "n/a" }')
	echo "sensord, flows only (no host baselines): $M_CPU CPU s," \
	    "$fo_kpps kpps per CPU-second, RSS $((M_RSS / 1024)) MB;" \
	    "vs softflowd: $(awk -v a="$M_CPU" -v b="$sf_cpu" 'BEGIN { if (a > 0 && b != "n/a") printf "%.2fx", b / a; else print "n/a" }');" \
	    "vs the naive loop: $(awk -v a="$M_CPU" -v b="$nv_cpu" 'BEGIN { if (a > 0 && b != "n/a") printf "%.2fx", b / a; else print "n/a" }')"
	[ "$nv_cpu" != n/a ] &&
		echo "  naive loop (naiveflows: parse + FNV table, nothing else): $nv_cpu CPU s," \
		    "$(awk -v p="$PK" -v c="$nv_cpu" 'BEGIN { printf "%.0f", p / c / 1000 }') kpps per CPU-second," \
		    "RSS $((nv_rss / 1024)) MB"
	# The packet thread alone (sensord's own clock): what one core
	# meters while the flow log compresses on its own thread.
	mt=$(grep '^{' "$W/sensord_flows.out" | tail -1 |
	    jq -r '.metering_cpu_s // empty' 2>/dev/null)
	if [ -n "$mt" ]; then
		echo "  of which the packet thread: $mt CPU s," \
		    "$(awk -v p="$PK" -v c="$mt" 'BEGIN { printf "%.0f", p / c / 1000 }') kpps" \
		    "per CPU-second, $(awk -v a="$mt" -v b="$sf_cpu" 'BEGIN { if (a > 0 && b != "n/a") printf "%.2fx", b / a; else print "n/a" }') softflowd;" \
		    "the flow log's compression and writes: $(awk -v a="$M_CPU" -v b="$mt" 'BEGIN { printf "%.2f", a - b }') CPU s"
	fi
	# The best of each is taken minutes apart, and the VM's speed
	# drifts in between: rounds of softflowd then sensord back to back
	# give the ratio a slow or fast spell disturbs least.
	if [ "$sf_ok" -eq 1 ]; then
		pairs=()
		for ((r = 1; r <= PAIRS; r++)); do
			measure "pair-softflowd.$r" "${sf_cmd[@]}"
			[ "$M_RC" -eq 0 ] || continue
			c_sf=$M_CPU
			rm -rf "$W/state3"
			measure "pair-sensord.$r" "$SENSORD" -r "$F" \
			    -D "$W/state3" "${flows_only[@]}"
			[ "$M_RC" -eq 0 ] || continue
			pairs+=("$(awk -v a="$c_sf" -v b="$M_CPU" 'BEGIN { printf "%.2f", a / b }')")
		done
		rm -rf "$W/state3"
		[ ${#pairs[@]} -gt 0 ] &&
			echo "  vs softflowd round by round (softflowd then" \
			    "sensord, back to back): ${pairs[*]}; median" \
			    "$(median "${pairs[@]}")x"
	fi
fi

# (d) the capture write path, when the spool writer's tool is built.
if [ -x "$TOOLS/spoolw" ]; then
	C=$DIR/trace-$CN-$SEED.pcap
	trace "$CN" "$C"
	CB=$(stat -c %s "$C")
	cat "$C" >/dev/null
	# The writer as the daemon runs it: its own thread fed by the ring,
	# two compression threads (both cores: gzip -1 is one), no cap in
	# the way.
	pin_saved=("${pin[@]}")
	pin=()
	best spoolw wall "$W/spool" "$TOOLS/spoolw" -T -q -z 2 -H 1000000000000 \
	    -f 1000000000000 -d "$W/spool" "$C"
	pin=("${pin_saved[@]}")
	sw_rc=$M_RC sw_wall=$M_WALL sw_cpu=$M_CPU sw_rss=$M_RSS
	sw_out=$(find "$W/spool" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	best gzip wall - sh -c 'gzip -1 -c "$1" >"$2"' sh "$C" "$W/gzip.gz"
	gz_rc=$M_RC gz_wall=$M_WALL gz_cpu=$M_CPU
	gz_out=$(stat -c %s "$W/gzip.gz")
	echo
	echo "capture write path: $(jq -r .packets "$C.json") packets," \
	    "$(awk -v b="$CB" 'BEGIN { printf "%.0f MB", b / 1e6 }') in"
	printf '%-11s %8s %8s %10s %10s %8s\n' "" "wall s" "CPU s" \
	    "MB/s CPU" "MB/s wall" "ratio"
	if [ "$sw_rc" -eq 0 ] && [ "$sw_out" -gt 0 ]; then
		printf '%-11s %8s %8s %10s %10s %8s\n' spoolw "$sw_wall" \
		    "$sw_cpu" "$(rate "$CB" "$sw_cpu" 1e6)" \
		    "$(rate "$CB" "$sw_wall" 1e6)" \
		    "$(div "$CB" "$sw_out")"
		echo "spoolw: $(find "$W/spool" -type f | wc -l) files," \
		    "$sw_out bytes, peak RSS $(mb "$sw_rss") MB"
	else
		echo "spoolw failed (status $sw_rc, $sw_out bytes written):"
		head -5 "$W/spoolw.err" | sed 's/^/    /'
	fi
	if [ "$gz_rc" -eq 0 ]; then
		printf '%-11s %8s %8s %10s %10s %8s\n' "gzip -1" "$gz_wall" \
		    "$gz_cpu" "$(rate "$CB" "$gz_cpu" 1e6)" \
		    "$(rate "$CB" "$gz_wall" 1e6)" \
		    "$(div "$CB" "$gz_out")"
	fi
else
	echo
	echo "capture write path: skipped ($TOOLS/spoolw not built)"
fi

# (e) metering with one busy host escalated, against none.
BUSY=${BENCH_BUSY:-10.1.0.2}
if [ -x "$SENSORD" ]; then
	for p in none esc; do
		mkdir -p "$W/pol-$p/hosts" "$W/st-$p"
		printf '[capture]\nenabled = no\n' >"$W/pol-$p/default.conf"
	done
	printf '[host]\naddress = %s\n[capture]\nenabled = yes\nduration = 1h\n[absolute]\nconns.1m = 1\n' \
	    "$BUSY" >"$W/pol-esc/hosts/busy.conf"
	echo
	echo "metering with one busy host escalated ($BUSY), $PK packets:"
	printf '%-11s %8s %8s %9s %9s %9s %10s %10s\n' "" "wall s" "CPU s" \
	    "kpps/CPU" "kpps/wall" "RSS MB" "captured" "cap MB"
	# Not pinned: the capture writer and its compressors are threads of
	# their own, made to run beside the loop on a second core.
	pin_saved=("${pin[@]}")
	pin=()
	# Rounds alternate none and esc, so a slow spell of the VM hits
	# both; the best wall time of each is kept.
	for p in none esc; do eval "e_${p}_wall=none"; done
	pairs=()
	for ((r = 1; r <= RUNS; r++)); do
		r_none= r_esc=
		for p in none esc; do
			rm -rf "$W/st-$p"
			mkdir -p "$W/st-$p"
			measure "esc-$p.$r" "$SENSORD" -r "$F" -D "$W/st-$p" \
			    -p "$W/pol-$p" --summary json
			if [ "$M_RC" -ne 0 ]; then
				echo "sensord ($p) exited with status $M_RC:"
				head -5 "$W/esc-$p.$r.err" | sed 's/^/    /'
				continue
			fi
			eval "r_${p}=\$M_WALL"
			[ "$p" = esc ] && [ -n "$r_none" ] &&
				pairs+=("$(awk -v a="$r_none" -v b="$r_esc" 'BEGIN { printf "%.2f", a / b }')")
			eval "bw=\$e_${p}_wall"
			[ "$bw" = none ] || awk -v a="$M_WALL" -v b="$bw" \
			    'BEGIN { exit !(a < b) }' || continue
			cp_pk=$(jq -s '[.[] | select(.event == "capture_file") |
			    .packets] | add // 0' "$W/st-$p/events.jsonl" \
			    2>/dev/null)
			cp_b=$(find "$W/st-$p" -path '*/captures/*' -type f \
			    -printf '%s\n' 2>/dev/null | awk '{ s += $1 }
			    END { printf "%.1f", s / 1e6 }')
			eval "e_${p}_wall=\$M_WALL e_${p}_cpu=\$M_CPU"
			eval "e_${p}_rss=\$M_RSS e_${p}_pk=\${cp_pk:-0}"
			eval "e_${p}_mb=\$cp_b"
		done
	done
	for p in none esc; do
		eval "w=\$e_${p}_wall"
		[ "$w" = none ] && { eval "e_${p}_pk=0"; continue; }
		eval "c=\$e_${p}_cpu rs=\$e_${p}_rss pk=\$e_${p}_pk mbs=\$e_${p}_mb"
		printf '%-11s %8s %8s %9s %9s %9s %10s %10s\n' "$p" "$w" \
		    "$c" "$(rate "$PK" "$c" 1e3)" "$(rate "$PK" "$w" 1e3)" \
		    "$(mb "$rs")" "$pk" "$mbs"
	done
	pin=("${pin_saved[@]}")
	if [ "$e_esc_pk" -gt 0 ] && [ "$e_none_pk" -eq 0 ]; then
		echo "one busy host escalated: $(x "$e_none_wall" "$e_esc_wall")" \
		    "the metering rate (packets per wall second) of none escalated" \
		    "(goal >= 0.80x); per CPU-second, compression included:" \
		    "$(x "$e_none_cpu" "$e_esc_cpu")"
		# Each round runs none then esc back to back, so its ratio
		# is the one a drifting VM disturbs least.
		[ ${#pairs[@]} -gt 0 ] &&
			echo "  round by round (none then esc, back to back):" \
			    "${pairs[*]}; median $(median "${pairs[@]}")x"
	else
		echo "escalation run did not capture as planned" \
		    "(captured: none $e_none_pk, esc $e_esc_pk)"
	fi
	echo "(CPU s includes the capture writer's compression threads)"
fi
exit 0
