# sensorctl against a running daemon, over the control socket.
#
# sensord captures live on the loopback interface of a network namespace
# of our own (traffic: curl against a python3 web server in the same
# namespace), with its control socket in our temporary directory.  Every
# daemon command is exercised, -j output is parsed with jq, a uid that is
# neither root, the daemon's, nor in the allowed group is refused on
# SO_PEERCRED (the socket is opened to everyone for that one check), and a
# garbage message is answered with an error and the connection closed while
# capture goes on.
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/netns.sh"
ns_init
need_cmd jq curl python3 setpriv
ns_add NS ctl
st=$T_TMP/state sock=$T_TMP/ctl.sock
small_policy "$T_TMP/pol" "[global]" "home_nets = 127.0.0.0/8"
ns_bg "$NS" "$T_TMP/sensord.log" "$SENSORD" -i lo -D "$st" -p "$T_TMP/pol" \
    --control "$sock"
SD_PID=$BG_PID
ns_bg "$NS" "$T_TMP/http.log" python3 -m http.server --bind 127.0.0.1 8080 \
    --directory "$T_TMP"
check "daemon up, control socket bound" wait_for 20 test -S "$sock"
wait_for 10 ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:8080/
ctl() { "$SENSORCTL" -s "$sock" "$@"; }

# status
for i in 1 2 3 4 5; do
	ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:8080/
done
wait_for 5 bash -c "[ \"\$($SENSORCTL -s $sock -j status | head -1 | jq .packets)\" -gt 20 ]"
out=$(ctl -j status)
check "status -j is JSON lines" jq_has '.version != null' <<<"$out"
eq "status: one interface, capturing" "$(jq -r 'select(.interface) | "\(.interface) \(.link)"' <<<"$out")" "lo capturing"
p1=$(jq -r 'select(.version) | .packets' <<<"$out" | head -1)
check "status counts packets ($p1)" test "$p1" -gt 20
check "status human output" bash -c "$SENSORCTL -s $sock status | grep -q '^flows_capacity'"

# hosts
out=$(ctl -j hosts)
check "hosts lists 127.0.0.1" jq_has '.host == "127.0.0.1"' <<<"$out"
out=$(ctl -j hosts 127.0.0.1)
check "hosts HOST shows thresholds" jq_has '.metric == "dst_ports" and .window == "10m" and .threshold == 500' <<<"$out"
eq "hosts HOST state" "$(jq -r 'select(.state) | .state' <<<"$out")" normal

# escalate / release, with the uid in events.jsonl
out=$(ctl -j escalate 127.0.0.1 --for 2m --reason "control test")
eq "escalate: state" "$(jq -r 'select(.state) | .state' <<<"$out")" escalated
pk=$(ctl -j status | head -1 | jq .packets)
ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:8080/
# The capture's block timeout delays delivery: wait until they are read.
wait_for 5 bash -c "[ \$($SENSORCTL -s $sock -j status | head -1 | jq .packets) -ge $((pk + 8)) ]"
check "escalate event with uid 0" wait_for 5 jq_has '.event == "escalate" and .uid == 0 and .reason == "control test"' "$st/events.jsonl"
ctl escalate 127.0.0.2 --for bogus >/dev/null 2>&1
eq "escalate --for bogus: usage error" "$?" 1
ctl release 127.0.0.1 >/dev/null
eq "release: ok" "$?" 0
ctl release 127.0.0.1 >/dev/null 2>&1
eq "release of a host not escalated: refused" "$?" 3
check "capture file closed after release" wait_for 10 bash -c "ls $st/captures/127.0.0.1/*.pcap.gz >/dev/null 2>&1"
f=$(ls "$st"/captures/127.0.0.1/*.pcap.gz | head -1)
eq "capture file verifies against its sidecar" "$(sha256sum "$f" | cut -c1-64)" "$(jq -r .sha256 "$f.json")"
check "captured HTTP packets (tshark)" bash -c "[ \$(tshark -r $f -Y 'tcp.port == 8080' 2>/dev/null | wc -l) -gt 0 ]"

# reload: good, then broken (old policy stays, observably), then fixed
# (new thresholds applied to the hosts already tracked); by sensorctl and
# by SIGHUP.
thr() {	# the host's dst_ports.10m threshold in force now
	ctl -j hosts 127.0.0.1 | jq -r 'select(.metric == "dst_ports" and
	    .window == "10m" and .basis == "absolute") | .threshold'
}
ctl reload >/dev/null
eq "reload ok" "$?" 0
cp "$T_TMP/pol/default.conf" "$T_TMP/good.conf"
echo "bogus_key = 1" >>"$T_TMP/pol/default.conf"
err=$(ctl reload 2>&1)
eq "reload of a broken policy refused" "$?" 3
check "reload names file:line" bash -c "grep -q 'default.conf:[0-9]' <<<'$err'"
check "daemon logs the rejection" grep -q "rejected" "$T_TMP/sensord.log"
eq "old threshold still in force" "$(thr)" 500
{ cat "$T_TMP/good.conf"; printf '[absolute]\ndst_ports.10m = 700\n'; } \
    >"$T_TMP/pol/default.conf"
ctl reload >/dev/null
eq "reload of the fixed policy" "$?" 0
eq "new threshold applied to a tracked host" "$(thr)" 700
n_rej=$(grep -c "rejected" "$T_TMP/sensord.log")
echo "bogus_key = 1" >>"$T_TMP/pol/default.conf"
kill -HUP "$SD_PID"
check "SIGHUP with a broken policy: rejected, logged" wait_for 5 \
    bash -c "[ \$(grep -c rejected $T_TMP/sensord.log) -gt $n_rej ]"
eq "SIGHUP: old threshold still in force" "$(thr)" 700
{ cat "$T_TMP/good.conf"; printf '[absolute]\ndst_ports.10m = 800\n'; } \
    >"$T_TMP/pol/default.conf"
kill -HUP "$SD_PID"
check "SIGHUP with a fixed policy: new threshold" wait_for 5 \
    bash -c "[ \"\$($SENSORCTL -s $sock -j hosts 127.0.0.1 | jq -r 'select(.metric == \"dst_ports\" and .window == \"10m\" and .basis == \"absolute\") | .threshold')\" = 800 ]"
cp "$T_TMP/good.conf" "$T_TMP/pol/default.conf"

# metrics
out=$(ctl metrics)
check "metrics: Prometheus TYPE lines" bash -c "grep -q '^# TYPE sensord_packets_total counter' <<<'$out'"
check "metrics: decode counter with labels" bash -c "grep -q '^sensord_decode_total{result=\"ok\"} [0-9]' <<<'$out'"

# an unprivileged uid is refused by SO_PEERCRED
chmod 0777 "$T_TMP"
chmod 0666 "$sock"
setpriv --reuid=65534 --regid=65534 --clear-groups "$SENSORCTL" -s "$sock" status >/dev/null 2>&1
eq "uid 65534 refused" "$?" 2
check "refusal logged with the uid" grep -q "refused pid .* uid 65534" "$T_TMP/sensord.log"

# garbage: an error reply, then the connection closes; capture goes on
reply=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(sys.argv[1])
s.send(b"\x00\x01\x00\x05\x00\x00\x00\x10not a message!!!")
m = s.recv(65536)
print("reply", len(m), m[2:4].hex(), b"bad request" in m)
print("then", len(s.recv(65536)))
PY
)
check "garbage answered with an END error" bash -c "grep -q '^reply [0-9]* 0101 True' <<<'$reply'"
eq "then the connection is closed" "$(sed -n 2p <<<"$reply")" "then 0"
p2=$(ctl -j status | head -1 | jq .packets)
ip netns exec "$NS" curl -s -o /dev/null http://127.0.0.1:8080/
check "capture continues after the garbage" wait_for 5 bash -c "[ \$($SENSORCTL -s $sock -j status | head -1 | jq .packets) -gt $p2 ]"
check "daemon still running" kill -0 "$SD_PID"

kill -TERM "$SD_PID"
wait_for 20 bash -c "! kill -0 $SD_PID 2>/dev/null"
check "flows query sees the HTTP conversations" bash -c "[ \$($SENSORCTL -D $st -j flows --port 8080 | jq -s length) -ge 5 ]"
