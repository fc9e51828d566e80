# The Managed Service for Apache Flink API (kinesisanalyticsv2) of
# tributary-server, driven by real clients (included by CMakeLists.txt here,
# after the server's and the clients' variables are set).
#
# Client ages (docs/ENDPOINT.md "Managed Service for Apache Flink"): the
# runtime upgrade (UpdateApplication RuntimeEnvironmentUpdate, 2023) and the
# operations API (2024) are newer than Debian 12's python3-botocore 1.29 and
# awscli 2.9.19. The tests that need them use the newer clients this machine
# image carries (pip's boto3 and awscli, first on PATH) and the current
# AWS SDK for JavaScript (npm); each fails, saying so, when its client is too
# old. Debian's clients run what they can (--legacy).

# The mapping in-process (Catch2, in endpoint_tests): the action table against
# the AWS model and docs/ENDPOINT.md, errors, the status page.
if(NOT TARGET tributary_server)
  add_subdirectory(${PROJECT_SOURCE_DIR}/lib/server ${PROJECT_BINARY_DIR}/lib/server)
endif()
target_sources(endpoint_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/flink_endpoint_test.cc)
# simdjson too: flink_shapes.h includes it, and its compile definitions
# (SIMDJSON_THREADS_ENABLED) must match the library's.
find_package(simdjson REQUIRED)
target_link_libraries(endpoint_tests PRIVATE tributary_server simdjson::simdjson)

# The python3 first on PATH (pip's boto3), as its real interpreter (not a
# pyenv shim), and the AWS CLI installed next to it.
find_program(TRIBUTARY_PATH_PYTHON python3)
if(TRIBUTARY_PATH_PYTHON AND NOT TRIBUTARY_AWS_PYTHON)
  execute_process(COMMAND ${TRIBUTARY_PATH_PYTHON} -c "import sys; print(sys.executable)"
                  OUTPUT_VARIABLE _python OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(_rc EQUAL 0 AND EXISTS "${_python}")
    set(TRIBUTARY_AWS_PYTHON "${_python}" CACHE FILEPATH "python3 with a current boto3 (the kinesisanalyticsv2 tests)")
  endif()
endif()
if(NOT TRIBUTARY_AWS_PYTHON)
  set(TRIBUTARY_AWS_PYTHON "${TRIBUTARY_SYSTEM_PYTHON}")
endif()
if(NOT TRIBUTARY_NEW_AWS_CLI)
  get_filename_component(_bin "${TRIBUTARY_AWS_PYTHON}" DIRECTORY)
  if(EXISTS "${_bin}/aws")
    set(TRIBUTARY_NEW_AWS_CLI "${_bin}/aws" CACHE FILEPATH "a current AWS CLI (the kinesisanalyticsv2 stories)")
  else()
    find_program(TRIBUTARY_NEW_AWS_CLI aws)
  endif()
endif()

add_test(NAME flink.boto3 COMMAND ${TRIBUTARY_AWS_PYTHON} ${_dir}/flink_boto3_test.py ${_server})
add_test(NAME flink.boto3_legacy COMMAND ${TRIBUTARY_SYSTEM_PYTHON} ${_dir}/flink_boto3_test.py ${_server} --legacy)
add_test(NAME flink.js_sdk COMMAND ${TRIBUTARY_NODE} ${_dir}/flink_js/flink_test.mjs ${_server})
# The README's example, both stories, with a restart of the server in the
# middle of each (SIGTERM, then kill -9).
add_test(NAME flink.awscli_rollback
         COMMAND bash ${PROJECT_SOURCE_DIR}/examples/rollback_with_aws_cli.sh --server ${_server}
                 --aws ${TRIBUTARY_NEW_AWS_CLI} --restart)
add_test(NAME flink.awscli_rollback_legacy
         COMMAND bash ${PROJECT_SOURCE_DIR}/examples/rollback_with_aws_cli.sh --server ${_server}
                 --aws ${TRIBUTARY_AWS_CLI} --legacy)
set_tests_properties(flink.boto3 flink.boto3_legacy flink.js_sdk flink.awscli_rollback flink.awscli_rollback_legacy
  PROPERTIES TIMEOUT 900 LABELS "endpoint;flink"
             ENVIRONMENT "NODE_NO_WARNINGS=1;PYTHONDONTWRITEBYTECODE=1;AWS_CONFIG_FILE=/dev/null;AWS_SHARED_CREDENTIALS_FILE=/dev/null")

# A C++ host with its own processor behind the same wire API (tributary/server.h).
add_executable(flink_host ${CMAKE_CURRENT_SOURCE_DIR}/flink_host.cc)
target_link_libraries(flink_host PRIVATE tributary_server tributary::tributary tributary_warnings)
add_test(NAME flink.host COMMAND ${TRIBUTARY_SYSTEM_PYTHON} ${_dir}/flink_host_test.py $<TARGET_FILE:flink_host>)
set_tests_properties(flink.host PROPERTIES TIMEOUT 300 LABELS "endpoint;flink"
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
# Sequential clients (the AWS CLI and the JavaScript SDK): not under TSan,
# where flink.boto3 drives the TSan-built server's applications.
set_property(TEST flink.js_sdk flink.awscli_rollback flink.awscli_rollback_legacy
             APPEND PROPERTY LABELS sequential)
