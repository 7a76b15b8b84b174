# Included right after project(edgenas) by toolchain.cmake. gRPC's CMake
# config defines its code-generator plugins as imported executables at the
# sysroot's paths: arm64 programs the host cannot run. Once the top-level
# CMakeLists.txt has run (so find_package(gRPC) has made the targets), point
# each at the host's program of the same name, for every configuration.
function(_edgenas_use_host_grpc_plugins)
  foreach(plugin grpc_cpp_plugin grpc_php_plugin grpc_python_plugin grpc_ruby_plugin)
    if(NOT TARGET gRPC::${plugin})
      continue()
    endif()
    set(host /usr/bin/${plugin})
    if(plugin STREQUAL grpc_cpp_plugin AND GRPC_CPP_PLUGIN)
      set(host "${GRPC_CPP_PLUGIN}")
    endif()
    get_target_property(configs gRPC::${plugin} IMPORTED_CONFIGURATIONS)
    set_target_properties(gRPC::${plugin} PROPERTIES IMPORTED_LOCATION "${host}")
    if(NOT configs)
      set(configs "")
    endif()
    foreach(cfg IN LISTS configs)
      string(TOUPPER "${cfg}" cfg)
      set_target_properties(gRPC::${plugin} PROPERTIES IMPORTED_LOCATION_${cfg} "${host}")
    endforeach()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _edgenas_use_host_grpc_plugins)
