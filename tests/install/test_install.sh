#!/bin/sh
# usage: test_install.sh BUILD_DIR SRC_DIR CC CMAKE
# Installs the build into a temporary prefix and checks what lands there:
#   - the installed files are exactly bin/fa-tune, share/fa-tune/templates/<every header of
#     templates/ and its family folders, same relative paths: sm90a/fa_fwd_sm90a.cuh> and the
#     CMake package files: no include/ folder, no stray header, no generator script
#   - every installed header is self-contained (fa_params.h compiles alone as C11; family
#     folders' headers with -I<templates>, the names they include by) and
#     declares no function that would need a library (none is installed)
#   - find_package(fa_tune) from the prefix gives fa_tune::templates with the templates and
#     FA_TUNE_EXECUTABLE pointing at the installed fa-tune
set -u
build=$1 src=$2 cc=$3 cmake=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}
prefix=$tmp/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; bad "cmake --install failed"; exit 1; }

(cd "$prefix" && find . -type f | sed 's|^\./||' | sort) >"$tmp/got"
{
    echo bin/fa-tune
    (cd "$src/templates" && find . -type f \( -name '*.h' -o -name '*.cuh' \) | sed 's|^\./||') |
        sed 's|^|share/fa-tune/templates/|'
} >"$tmp/want0"
libdir=$(sed -n 's|^lib[^/]*/cmake/fa_tune/fa_tuneConfig.cmake$|&|p' "$tmp/got" | sed 's|/cmake/.*||')
[ -n "$libdir" ] || bad "no fa_tuneConfig.cmake installed"
echo "$libdir/cmake/fa_tune/fa_tuneConfig.cmake" >>"$tmp/want0"
echo "$libdir/cmake/fa_tune/fa_tuneConfigVersion.cmake" >>"$tmp/want0"
sort "$tmp/want0" >"$tmp/want"
diff -u "$tmp/want" "$tmp/got" >"$tmp/diff" || { cat "$tmp/diff"; bad "installed files differ"; }
[ -e "$prefix/include" ] && bad "include/ installed: $(cd "$prefix" && find include -type f)"

# headers: self-contained, and nothing in them needs a library
for h in $(cd "$prefix" && find . -name '*.h' | sed 's|^\./||'); do
    printf '#include "%s"\n' "$prefix/$h" >"$tmp/one.c"
    "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
        -I"$prefix/share/fa-tune/templates" "$tmp/one.c" 2>"$tmp/cc.err" ||
        { cat "$tmp/cc.err"; bad "$h is not self-contained"; }
    # a function declared but not defined here is a promise only a library keeps
    "$cc" -std=c11 -E -P -I"$prefix/share/fa-tune/templates" "$tmp/one.c" 2>/dev/null |
        grep -E '^[A-Za-z_][A-Za-z0-9_ *]*[ *]fa_[a-z0-9_]+\([^)]*\);' >"$tmp/decls" &&
        { cat "$tmp/decls"; bad "$h declares functions but no library is installed"; }
done

# the package
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer NONE)
find_package(fa_tune REQUIRED)
get_target_property(inc fa_tune::templates INTERFACE_INCLUDE_DIRECTORIES)
if(NOT EXISTS "${inc}/fa_fwd_sm80.cuh" OR NOT EXISTS "${inc}/fa_params.h")
  message(FATAL_ERROR "fa_tune::templates points at '${inc}' without the templates")
endif()
if(NOT EXISTS "${FA_TUNE_EXECUTABLE}")
  message(FATAL_ERROR "FA_TUNE_EXECUTABLE '${FA_TUNE_EXECUTABLE}' does not exist")
endif()
CM
"$cmake" -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$tmp/consumer.log" 2>&1 || { cat "$tmp/consumer.log"; bad "find_package(fa_tune) failed"; }
exit $fail
