#!/usr/bin/env bash
# Packaging tests (run by ctest, see tests/package/CMakeLists.txt). Each mode
# is one ctest test; `install` is the fixture the others need.
#
#   package_test.sh install      SRC WORK BUILD CONFIG  cmake --install the build BUILD
#                                                       (configuration CONFIG) into WORK/prefix
#                                                       and check what a user gets
#   package_test.sh find_package SRC WORK  build examples/consumer_project with
#                                          find_package(tributary) against WORK/prefix, run it
#   package_test.sh pkg_config   SRC WORK  compile the same main.cc with only
#                                          `pkg-config --cflags --libs tributary`, run it
#   package_test.sh testing      SRC WORK  build examples/testing_my_consumer (tributary::testing
#                                          + Catch2) against WORK/prefix and run its ctest
#
# CMAKE_GENERATOR, CXX and TRIBUTARY_LIBDIR (the build's CMAKE_INSTALL_LIBDIR,
# default lib) are taken from the environment when set.
set -euo pipefail
mode="$1" src="$2" work="$3"
prefix="$work/prefix"
libdir="${TRIBUTARY_LIBDIR:-lib}"
gen=()
# The small projects built here are single-config: a multi-config
# generator's build puts the program under a Debug/ or Release/ folder.
case "${CMAKE_GENERATOR:-}" in
  "") ;;
  *Multi-Config*) gen=(-G Ninja) ;;
  *) gen=(-G "$CMAKE_GENERATOR") ;;
esac
jobs="${TRIBUTARY_PACKAGE_JOBS:-2}"

case "$mode" in
  install)
    build="$4" config="${5:-}"
    rm -rf "$prefix" "$work/find_package" "$work/pkg_config" "$work/testing"
    mkdir -p "$work"
    # The libraries (and tools) this build made, nothing compiled again.
    cmake --install "$build" --prefix "$prefix" ${config:+--config "$config"}
    # What a user gets:
    for f in include/tributary/tributary.h include/tributary/testing.h \
             include/tributary/testing/faults.h "$libdir/libtributary.a" "$libdir/libtributary_testing.a" \
             "$libdir/cmake/tributary/tributaryConfig.cmake" "$libdir/cmake/tributary/tributaryConfigVersion.cmake" \
             "$libdir/cmake/tributary/tributaryTargets.cmake" "$libdir/cmake/tributary/FindxxHash.cmake" \
             "$libdir/pkgconfig/tributary.pc" "$libdir/pkgconfig/tributary-testing.pc"; do
      [[ -f "$prefix/$f" ]] || { echo "package_test: $f was not installed" >&2; exit 1; }
    done
    # Nothing internal leaks into the install tree.
    if find "$prefix/include" -name '*.h' | xargs grep -l '#include "\(util\|stream\|log\|shard\|env\)/' ; then
      echo "package_test: an installed header includes a private lib/ header" >&2; exit 1
    fi
    # The tools, when the build has them, say their version.
    version="$(sed -n 's/^Version: *//p' "$prefix/$libdir/pkgconfig/tributary.pc")"
    for tool in tributary-server tributary; do
      [[ -x "$prefix/bin/$tool" ]] || continue
      out="$("$prefix/bin/$tool" --version)"
      [[ "$out" == "$tool $version" ]] || { echo "package_test: $tool --version said '$out'" >&2; exit 1; }
    done
    ;;
  find_package)
    cmake -S "$src/examples/consumer_project" -B "$work/find_package" "${gen[@]}" \
      -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build "$work/find_package" -j"$jobs"
    "$work/find_package/consumer_project"
    ;;
  pkg_config)
    export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
    pkg-config --exists --print-errors "tributary >= 0.1" tributary-testing
    # The prefix comes from the .pc file's location (the file is relocatable).
    [[ "$(pkg-config --variable=includedir tributary)" -ef "$prefix/include" ]]
    mkdir -p "$work/pkg_config"
    # shellcheck disable=SC2046  # word splitting is what pkg-config output needs
    "${CXX:-c++}" -o "$work/pkg_config/consumer" "$src/examples/consumer_project/main.cc" \
      $(pkg-config --cflags --libs tributary)
    "$work/pkg_config/consumer"
    ;;
  testing)
    cmake -S "$src/examples/testing_my_consumer" -B "$work/testing" "${gen[@]}" \
      -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build "$work/testing" -j"$jobs"
    ctest --test-dir "$work/testing" --output-on-failure
    ;;
  *)
    echo "package_test.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
