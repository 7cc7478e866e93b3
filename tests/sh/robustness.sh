# Replay every capture under $SHARED_PCAPS/robustness through `sensord -r`
# (under ASan + UBSan in `make check`): no crash, no sanitizer report, no
# leak, whatever the file holds.  Files libpcap refuses (MANIFEST.md) and
# link types we do not decode must fail with one clear line naming the file
# and exit status 2; everything else must exit 0.
source "$TOP/tests/lib/lib.sh"
dir=$SHARED_PCAPS/robustness
[ -d "$dir" ] || { skip "robustness: $dir missing"; exit 0; }
n_files=0 n_pkts=0 n_err=0 bad=0
state=$(tmpdir)/state
small_policy "$T_TMP/pol"
while IFS= read -r -d '' f; do
	n_files=$((n_files + 1))
	out=$("$SENSORD" -r "$f" -D "$state" -p "$T_TMP/pol" --summary json 2>"$T_TMP/err")
	rc=$?
	err=$(cat "$T_TMP/err")
	if grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$T_TMP/err" ||
	    [ $rc -ge 80 ] || [ $rc -eq 1 ] || [ $rc -gt 2 ]; then
		fail "robustness: $f: exit $rc: $(echo "$err" | head -3)"
		bad=$((bad + 1))
		continue
	fi
	if [ $rc -eq 2 ]; then
		n_err=$((n_err + 1))
		# One clear line naming the file.
		if ! echo "$err" | grep -qF "$f:"; then
			fail "robustness: $f: error does not name the file: $err"
			bad=$((bad + 1))
		fi
	fi
	p=$(echo "$out" | jq -r '.packets' 2>/dev/null)
	[ -n "$p" ] && [ "$p" != null ] || { fail "robustness: $f: no JSON summary"; bad=$((bad + 1)); continue; }
	n_pkts=$((n_pkts + p))
done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
[ $bad -eq 0 ] && ok "robustness: $n_files files, $n_pkts packets replayed, $n_err refused with a clear error, 0 sanitizer reports"
[ $n_files -gt 300 ] && ok "robustness: corpus complete ($n_files files)" || fail "robustness: only $n_files files found"
