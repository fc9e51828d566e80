#!/usr/bin/env bash
# Packaging tests (run by ctest, see tests/package/CMakeLists.txt). Each mode
# is one ctest test; `install` is the fixture the others need.
#
#   package_test.sh install        SRC WORK  configure + build Tributary on its own
#                                            (no tests/tools), cmake --install into WORK/prefix
#   package_test.sh find_package   SRC WORK  build examples/consumer_project with
#                                            find_package(tributary) against WORK/prefix, run it
#   package_test.sh pkg_config     SRC WORK  compile the same main.cc with only
#                                            `pkg-config --cflags --libs tributary`, run it
#   package_test.sh testing        SRC WORK  build examples/testing_my_consumer (tributary::testing
#                                            + Catch2) against WORK/prefix and run its ctest
#   package_test.sh add_subdirectory SRC WORK  build examples/consumer_project with
#                                            add_subdirectory(SRC), run it
#
# CMAKE_GENERATOR and CXX are taken from the environment when set.
set -euo pipefail
mode="$1" src="$2" work="$3"
prefix="$work/prefix"
gen=()
if [[ -n "${CMAKE_GENERATOR:-}" ]]; then gen=(-G "$CMAKE_GENERATOR"); fi
jobs="${TRIBUTARY_PACKAGE_JOBS:-2}"

case "$mode" in
  install)
    # Only its own directories: package.add_subdirectory may run meanwhile.
    rm -rf "$work/build" "$prefix" "$work/find_package" "$work/pkg_config" "$work/testing"
    mkdir -p "$work"
    # -O0 and nothing but the two libraries: this test is about the package,
    # not the code, so it should cost as little build time as possible.
    cmake -S "$src" -B "$work/build" "${gen[@]}" -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_FLAGS=-O0 \
      -DTRIBUTARY_BUILD_TESTS=OFF -DTRIBUTARY_BUILD_BENCH=OFF -DTRIBUTARY_BUILD_EXAMPLES=OFF \
      -DTRIBUTARY_BUILD_TOOLS=OFF -DTRIBUTARY_INSTALL=ON -DBUILD_TESTING=OFF
    cmake --build "$work/build" -j"$jobs" --target tributary tributary_testing
    cmake --install "$work/build" --prefix "$prefix"
    # What a user gets:
    for f in include/tributary/tributary.h include/tributary/testing.h \
             include/tributary/testing/faults.h lib/libtributary.a lib/libtributary_testing.a \
             lib/cmake/tributary/tributaryConfig.cmake lib/cmake/tributary/tributaryConfigVersion.cmake \
             lib/cmake/tributary/tributaryTargets.cmake lib/cmake/tributary/FindxxHash.cmake \
             lib/pkgconfig/tributary.pc lib/pkgconfig/tributary-testing.pc; do
      [[ -f "$prefix/$f" ]] || { echo "package_test: $f was not installed" >&2; exit 1; }
    done
    # Nothing internal leaks into the install tree.
    if find "$prefix/include" -name '*.h' | xargs grep -l '#include "\(util\|stream\|log\|shard\|env\)/' ; then
      echo "package_test: an installed header includes a private lib/ header" >&2; exit 1
    fi
    ;;
  find_package)
    cmake -S "$src/examples/consumer_project" -B "$work/find_package" "${gen[@]}" \
      -DCMAKE_PREFIX_PATH="$prefix"
    cmake --build "$work/find_package" -j"$jobs"
    "$work/find_package/consumer_project"
    ;;
  pkg_config)
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
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
  add_subdirectory)
    rm -rf "$work/add_subdirectory"
    cmake -S "$src/examples/consumer_project" -B "$work/add_subdirectory" "${gen[@]}" \
      -DTRIBUTARY_SOURCE_DIR="$src" -DCMAKE_CXX_FLAGS=-O0
    # Not top level: Tributary's own tests, benchmarks, tools and install
    # rules must stay off.
    if grep -q '^TRIBUTARY_BUILD_TESTS:BOOL=ON' "$work/add_subdirectory/CMakeCache.txt"; then
      echo "package_test: add_subdirectory turned Tributary's tests on" >&2; exit 1
    fi
    cmake --build "$work/add_subdirectory" -j"$jobs"
    "$work/add_subdirectory/consumer_project"
    ;;
  *)
    echo "package_test.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
