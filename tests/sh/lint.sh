# make lint as a test: clang-format (the checked-in .clang-format, near
# KNF) finds nothing to change in sensord/, and cppcheck finds nothing
# beyond the false positives listed, with reasons, in the Makefile.
source "$TOP/tests/lib/lib.sh"
need_cmd clang-format cppcheck
cd "$TOP"
out=$(clang-format --dry-run --Werror sensord/*.c sensord/*.h 2>&1)
check "clang-format: sensord/ is formatted ($(grep -c 'error:' <<<"$out") issues)" test -z "$out"
out=$(cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE \
    --enable=warning,portability,performance --suppress=missingIncludeSystem \
    --suppressions-list=tests/cppcheck.supp -Isensord sensord 2>&1)
rc=$?
check "cppcheck: no finding" test "$rc" -eq 0
[ "$rc" -eq 0 ] || echo "$out" | head -20 | sed 's/^/# /'
