# Helpers shared by every part's CMakeLists.txt.

# edgenas_test_code(TARGET): a test binary or a library only tests link.
# - At -O1: what the tests exercise (the parts' libraries) stays -O3; the
#   tests' own sources, mostly GoogleTest's and JSON's templates, need no
#   more and compile faster.
# - As a unity build, six sources to a compilation: the headers and the
#   templates they share are compiled once per six. Names in a test's
#   anonymous namespace must therefore differ from its neighbours'; helpers
#   two tests share go to a testing/ folder.
function(edgenas_test_code target)
  target_compile_options(${target} PRIVATE -O1)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 6)
endfunction()

# edgenas_test(NAME SOURCES... LIBS lib...): one GoogleTest binary, registered with ctest.
function(edgenas_test name)
  if(NOT EDGENAS_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  edgenas_test_code(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
endfunction()

# The arrows between parts (README, "How it is built"), checked over each target's
# transitive link closure:
# runtime links none of search/server/worker, search links none of server/worker,
# worker links none of search/server, the job-spec language none of the
# coordinator, gRPC or SQLite, the CLI (edgenas) neither the coordinator
# nor SQLite, and the inference API (static and shared) nothing but the
# engine. A violation stops the configure step.
function(_edgenas_link_closure target out)
  set(seen "")
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue t)
    if(NOT TARGET ${t} OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(libs)
      list(APPEND queue ${libs})
    endif()
    get_target_property(ilibs ${t} INTERFACE_LINK_LIBRARIES)
    if(ilibs)
      list(APPEND queue ${ilibs})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(edgenas_check_arrows)
  set(rules
    "edgenas_runtime:edgenas_search,edgenas_server,edgenas_worker,edgenas_proto_grpc,gRPC::grpc++,SQLite::SQLite3"
    "edgenas_search:edgenas_server,edgenas_worker,edgenas_proto_grpc,gRPC::grpc++,SQLite::SQLite3"
    "edgenas_worker:edgenas_search,edgenas_server"
    "edgenas_proto:edgenas_runtime,edgenas_search,edgenas_server,edgenas_worker"
    "edgenas_spec:edgenas_server,edgenas_worker,edgenas_proto_grpc,gRPC::grpc++,SQLite::SQLite3"
    "edgenas:edgenas_server,SQLite::SQLite3"
    "edgenas_inference:edgenas_search,edgenas_server,edgenas_worker,edgenas_proto_grpc,gRPC::grpc++,SQLite::SQLite3"
    "edgenas_shared:edgenas_search,edgenas_server,edgenas_worker,edgenas_proto_grpc,gRPC::grpc++,SQLite::SQLite3")
  foreach(rule ${rules})
    string(REPLACE ":" ";" parts ${rule})
    list(GET parts 0 lib)
    list(GET parts 1 forbidden)
    string(REPLACE "," ";" forbidden ${forbidden})
    _edgenas_link_closure(${lib} closure)
    foreach(f ${forbidden})
      if(f IN_LIST closure)
        message(FATAL_ERROR "Arrow violated: ${lib} links ${f} (see README.md, 'How it is built')")
      endif()
    endforeach()
  endforeach()
endfunction()

# edgenas_part_sources(DIR SRCS TESTS TESTING): the sources of one part.
# Folders say what a file is for: code under a testing/ folder helps tests
# only (TESTING: a library that tests link and binaries never do); *_test.cc
# files are the part's tests; the rest, but for mains and the CLI, which are
# listed by hand, is the part's library.
function(edgenas_part_sources dir out_srcs out_tests out_testing)
  file(GLOB_RECURSE all CONFIGURE_DEPENDS ${dir}/*.cc)
  set(srcs "")
  set(tests "")
  set(testing "")
  foreach(f ${all})
    if(f MATCHES "_test\\.cc$")
      list(APPEND tests ${f})
    elseif(f MATCHES "/testing/")
      list(APPEND testing ${f})
    elseif(f MATCHES "_main\\.cc$" OR f MATCHES "/cli/" OR f MATCHES "_fuzz\\.cc$")
      # executables are listed by hand
    else()
      list(APPEND srcs ${f})
    endif()
  endforeach()
  set(${out_srcs} ${srcs} PARENT_SCOPE)
  set(${out_tests} ${tests} PARENT_SCOPE)
  set(${out_testing} ${testing} PARENT_SCOPE)
endfunction()
