# `cmake --install build --prefix P` installs the foldrt CLI, the four
# libraries, the public headers and a CMake package, so that another project
# does
#
#   find_package(foldrt CONFIG REQUIRED)   # CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE foldrt::runtime)
#
# Layout under P:
#   bin/foldrt
#   include/foldrt/{runtime,graph,ops}/...   (included as "runtime/session.h",
#                                             exactly as inside the tree)
#   lib/libfoldrt_{core,ops,graph,runtime}.a
#   lib/cmake/foldrt/foldrt{Config,ConfigVersion,Targets,Targets-<config>}.cmake
#
# The libraries are static (the project's default), so the exported targets
# name the dependencies they link privately (oneDNN, ONNX, protobuf, OpenMP)
# and foldrtConfig.cmake finds every one of them again (find_dependency).
# The headers sit under include/foldrt rather than include/ so that their
# generic top-level folders (graph/, ops/) cannot collide with another
# package's in a shared prefix such as /usr/local.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(FOLDRT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/foldrt")

# Consumers write foldrt::runtime (and foldrt::graph, foldrt::ops,
# foldrt::core); the aliases give code inside this tree, or a project that
# adds it with add_subdirectory, the same names.
foreach(lib core ops graph runtime)
  set_target_properties(foldrt_${lib} PROPERTIES EXPORT_NAME ${lib})
  add_library(foldrt::${lib} ALIAS foldrt_${lib})
endforeach()

install(TARGETS foldrt_core foldrt_ops foldrt_graph foldrt_runtime foldrt
  EXPORT foldrtTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/foldrt)

# The include closure of runtime/session.h, plus the offline fold and ONNX
# I/O API. Everything else (runtime/program.h, kernels, fold internals, the
# oneDNN wrappers) is private: those headers pull in oneDNN or change freely.
# tests/tools/cmake_consumer compiles every installed header on its own
# against the installed tree, so a header missing here fails CI.
set(FOLDRT_PUBLIC_HEADERS
  runtime/session.h
  core/batch_norm_affine.h
  core/error.h
  core/logging.h
  core/npy.h
  core/tensor.h
  graph/graph.h
  graph/onnx_io.h
  graph/tensor.h
  graph/passes/batch_norm_fold.h
  graph/passes/fold_report.h
  ops/activation.h
  ops/batch_norm.h
  ops/layout.h
)
foreach(header ${FOLDRT_PUBLIC_HEADERS})
  get_filename_component(folder ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/foldrt/${folder})
endforeach()

install(EXPORT foldrtTargets
  NAMESPACE foldrt::
  DESTINATION ${FOLDRT_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/foldrtConfig.cmake.in
  ${PROJECT_BINARY_DIR}/foldrtConfig.cmake
  INSTALL_DESTINATION ${FOLDRT_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same minor matches.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/foldrtConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/foldrtConfig.cmake
  ${PROJECT_BINARY_DIR}/foldrtConfigVersion.cmake
  DESTINATION ${FOLDRT_INSTALL_CMAKEDIR})
