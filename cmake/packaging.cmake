# Debian packages (CPack), two of them:
#
#   libtributary-dev  component `dev`: the headers, the static libraries,
#                     the CMake package and the pkg-config files
#   tributary         component `server`: tributary-server, the `tributary`
#                     CLI, a systemd unit for the server, man pages
#
# Build them from a Release build configured with the prefix they install to:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build/release && cpack --config build/release/CPackConfig.cmake -B build/release/deb
# scripts/package does that and checks what it made (installs both into a
# scratch root and builds examples/consumer_project against them).
# Included by the top-level CMakeLists.txt when TRIBUTARY_INSTALL is on,
# after every install rule.

# --- what the `server` package holds besides the two programs -------------
if(TARGET tributary-server)
  # The unit runs the durable server on the loopback interface, its data in
  # /var/lib/tributary (StateDirectory; DynamicUser, so no account is made).
  configure_file(${PROJECT_SOURCE_DIR}/tools/tributary-server/tributary-server.service.in
                 ${PROJECT_BINARY_DIR}/tributary-server.service @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/tributary-server.service
          DESTINATION lib/systemd/system COMPONENT server)
endif()

# Man pages made from each program's --help and --version by help2man
# (scripts/setup installs it); without help2man, and in sanitizer builds
# (whose programs are not for installing), they are left out.
find_program(TRIBUTARY_HELP2MAN help2man)
set(_tributary_man_targets)
if(TRIBUTARY_HELP2MAN AND NOT TRIBUTARY_SANITIZE)
  foreach(_t IN ITEMS tributary-server tributary_cli)
    if(NOT TARGET ${_t})
      continue()
    endif()
    get_target_property(_name ${_t} OUTPUT_NAME)
    if(NOT _name)
      set(_name ${_t})
    endif()
    if(_t STREQUAL "tributary-server")
      set(_what "a Kinesis Data Streams endpoint over a Tributary store")
    else()
      set(_what "inspect a durable Tributary store")
    endif()
    # Per configuration, so multi-config generators build each from its own
    # binary; compressed, as Debian installs man pages.
    set(_man ${PROJECT_BINARY_DIR}/man/$<CONFIG>/${_name}.1)
    add_custom_command(OUTPUT ${_man}.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man/$<CONFIG>
      COMMAND ${TRIBUTARY_HELP2MAN} --no-info --no-discard-stderr "--name=${_what}"
              --output=${_man} $<TARGET_FILE:${_t}>
      COMMAND gzip -9nf ${_man}
      DEPENDS ${_t}
      COMMENT "help2man ${_name}.1"
      VERBATIM)
    list(APPEND _tributary_man_targets ${_man}.gz)
    install(FILES ${_man}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)
  endforeach()
  if(_tributary_man_targets)
    add_custom_target(tributary_man ALL DEPENDS ${_tributary_man_targets})
  endif()
else()
  message(STATUS "help2man not found: no man pages for tributary-server and tributary")
endif()

# Each package's licence, where Debian keeps it.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/tributary
        RENAME copyright COMPONENT server)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libtributary-dev
        RENAME copyright COMPONENT dev)

# --- the packages ----------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tributary)
set(CPACK_PACKAGE_VENDOR "Tributary")
set(CPACK_PACKAGE_CONTACT "Tributary maintainers <maintainers@users.noreply.r-seed-92fcc3aa.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Embeddable stream storage with Amazon Kinesis Data Streams semantics")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# The package installs where the build was configured to (/usr for Debian),
# so the paths compiled into the unit and the CMake package hold.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev server)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libtributary-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Tributary: the C++20 library (static), its testing toolkit, CMake package, pkg-config files
 Streams of shards partitioned by hash-key range, sequence-numbered records,
 shard iterators, split/merge resharding and retention, in memory or durably
 on disk, with Amazon Kinesis Data Streams semantics, in process.
 find_package(tributary CONFIG) or pkg-config --cflags --libs tributary.")
# The library is static: a program that links it needs the -dev packages of
# everything it uses (tributaryConfig.cmake's find_dependency list and
# tributary.pc's Requires). Each at least the version it was built against;
# abseil also at most that LTS (its symbols carry the LTS in their names).
set(_tributary_dev_depends
  libabsl-dev libfmt-dev libssl-dev libxxhash-dev libprotobuf-dev libcurl4-openssl-dev libsimdjson-dev)
find_program(TRIBUTARY_DPKG_QUERY dpkg-query)
set(_deps)
foreach(_p IN LISTS _tributary_dev_depends)
  set(_v "")
  if(TRIBUTARY_DPKG_QUERY)
    execute_process(COMMAND ${TRIBUTARY_DPKG_QUERY} -W -f=\${Version} ${_p}
                    OUTPUT_VARIABLE _v ERROR_QUIET RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      set(_v "")
    endif()
  endif()
  if(_v)
    # The upstream version (no Debian revision): security updates of the
    # same upstream release satisfy it.
    string(REGEX REPLACE "-[^-]*$" "" _v "${_v}")
    list(APPEND _deps "${_p} (>= ${_v})")
    if(_p STREQUAL "libabsl-dev" AND _v MATCHES "^([0-9]+:)?([0-9]+~)?([0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9])")
      math(EXPR _next "${CMAKE_MATCH_3} + 1")
      list(APPEND _deps "${_p} (<< ${CMAKE_MATCH_1}${CMAKE_MATCH_2}${_next})")
    endif()
  else()
    list(APPEND _deps "${_p}")
  endif()
endforeach()
list(JOIN _deps ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME tributary)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
    "Tributary: tributary-server (a Kinesis Data Streams endpoint) and the tributary CLI
 tributary-server serves the Amazon Kinesis Data Streams API (JSON and CBOR
 over HTTP/1.1) from a Tributary store, so the AWS SDKs, the AWS CLI and the
 KCL run against it unchanged. The systemd unit tributary-server.service
 (not enabled on install) keeps its streams in /var/lib/tributary.
 tributary inspects and verifies a durable store directory.")
# The shared libraries the programs link, found by dpkg-shlibdeps.
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)
# dot draws the shard lineage (tributary shards --svg, the status page).
set(CPACK_DEBIAN_SERVER_PACKAGE_RECOMMENDS graphviz)

include(CPack)
cpack_add_component(dev DISPLAY_NAME "Library, headers, CMake and pkg-config files")
cpack_add_component(server DISPLAY_NAME "tributary-server and the tributary CLI")
