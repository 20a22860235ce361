# MSAInstall.cmake: what `cmake --install` puts in the prefix, and the two
# CMake packages a consumer finds there (docs/EMBEDDING.md):
#
#   MSAKernels  lib/cmake/MSAKernels   the kernel libraries and their C
#               headers; needs no MLIR (MSA::msa_kernels_* targets)
#   MSA         lib/cmake/MSA          the dialect, lowering, registration
#               and C API libraries, msa-opt (MSA:: targets); finds MLIR
#               (find_dependency(MLIR CONFIG), honouring MLIR_DIR) and
#               MSAKernels from the same prefix
#
# Included at the end of the top-level CMakeLists.txt, so that every target
# exists. The kernel folders install their own files as well; the rules here
# add the export sets (installing a file twice is harmless).
include(CMakePackageConfigHelpers)

set(MSA_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake)

# ---- MSAKernels: no MLIR --------------------------------------------------
set(MSA_KERNEL_TARGETS msa_kernels_common)
foreach(t msa_kernels_cpu msa_kernels_cpu_static msa_kernels_cuda)
  if(TARGET ${t})
    list(APPEND MSA_KERNEL_TARGETS ${t})
  endif()
endforeach()
set(MSA_KERNELS_HAVE_CPU OFF)
set(MSA_KERNELS_HAVE_CPU_STATIC OFF)
set(MSA_KERNELS_HAVE_CUDA OFF)
if(TARGET msa_kernels_cpu)
  set(MSA_KERNELS_HAVE_CPU ON)
endif()
if(TARGET msa_kernels_cpu_static)
  set(MSA_KERNELS_HAVE_CPU_STATIC ON)
endif()
if(TARGET msa_kernels_cuda)
  set(MSA_KERNELS_HAVE_CUDA ON)
endif()

# libmsa_kernels_cuda needs libmsa_kernels_cpu.so.N (the auto entry's CPU
# fallback), installed next to it: found through RUNPATH $ORIGIN, so that
# mlir-runner -shared-libs=, an ExecutionEngine or a consumer's program load
# it from the prefix, wherever the prefix is moved, with no LD_LIBRARY_PATH.
if(TARGET msa_kernels_cuda)
  set_target_properties(msa_kernels_cuda PROPERTIES INSTALL_RPATH "$ORIGIN")
endif()

install(TARGETS ${MSA_KERNEL_TARGETS} EXPORT MSAKernelsTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES
  ${PROJECT_SOURCE_DIR}/kernels_cpu/include/msa/msa_kernels.h
  ${PROJECT_SOURCE_DIR}/kernels_cpu/include/msa/msa_checks.h
  ${PROJECT_SOURCE_DIR}/kernels_cpu/include/msa/msa_memref.h
  ${PROJECT_SOURCE_DIR}/kernels_cpu/include/msa/msa_reference.h
  ${PROJECT_SOURCE_DIR}/kernels_gpu/include/msa/msa_kernels_cuda.h
  ${PROJECT_SOURCE_DIR}/kernels_gpu/include/msa/msa_cuda_limits.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/msa)
install(EXPORT MSAKernelsTargets NAMESPACE MSA::
  FILE MSAKernelsTargets.cmake
  DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSAKernels)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/MSAKernelsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/MSAKernels/MSAKernelsConfig.cmake
  INSTALL_DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSAKernels
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/MSAKernels/MSAKernelsConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/MSAKernels/MSAKernelsConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/MSAKernels/MSAKernelsConfigVersion.cmake
  DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSAKernels)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The CPU benchmark (static kernel library; needs no RUNPATH).
# Its PyTorch baseline goes to share/msa, where the installed msa-bench looks
# for it (relative to its own path) when the source tree is not there.
if(TARGET msa-bench)
  install(TARGETS msa-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/tools/msa-bench/torch_baseline.py
          DESTINATION ${CMAKE_INSTALL_DATADIR}/msa)
endif()

if(NOT MSA_ENABLE_MLIR)
  return()
endif()

# ---- MSA: the MLIR parts --------------------------------------------------
# msa_mlir_dylib links libMLIR.so/libLLVM.so by absolute path in the build
# tree. Installed, it carries no path: MSAConfig.cmake finds MLIR (the
# consumer's, through MLIR_DIR) and adds libMLIR.so/libLLVM.so from that
# MLIR's LLVM_LIBRARY_DIR, with its include directories.
set_property(TARGET msa_mlir_dylib PROPERTY INTERFACE_LINK_LIBRARIES
  "$<BUILD_INTERFACE:${MSA_LIBMLIR}>" "$<BUILD_INTERFACE:${MSA_LIBLLVM}>")
set_property(TARGET msa_mlir_dylib PROPERTY INTERFACE_COMPILE_FEATURES
  cxx_std_17)

# The project adds its include paths per directory (include_directories);
# installed targets carry the prefix's include directory instead.
foreach(t MLIRMSADialect MSALowering MSARegistration MSACAPI)
  set_property(TARGET ${t} APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
endforeach()

# Installed programs and the C API library find libMLIR.so (not on the
# loader's default path on Debian) through their RPATH.
set_target_properties(msa-opt PROPERTIES
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR};${LLVM_LIBRARY_DIR}")
set_target_properties(MSACAPI PROPERTIES
  INSTALL_RPATH "$ORIGIN;${LLVM_LIBRARY_DIR}")

install(TARGETS msa_mlir_dylib MLIRMSADialect MSALowering MSARegistration
                MSACAPI msa-opt
  EXPORT MSATargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers: hand-written (.h), ODS sources (.td, for consumers' own
# tablegen) and the tablegen output (.inc, from the build tree).
foreach(dir dialect lowering)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/include/msa
                    ${PROJECT_SOURCE_DIR}/${dir}/include/msa-c
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
  install(DIRECTORY ${PROJECT_BINARY_DIR}/${dir}/include/msa
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.inc"
    PATTERN "CMakeFiles" EXCLUDE)
endforeach()

install(EXPORT MSATargets NAMESPACE MSA::
  FILE MSATargets.cmake
  DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSA)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/MSAConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/MSA/MSAConfig.cmake
  INSTALL_DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSA
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/MSA/MSAConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/MSA/MSAConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/MSA/MSAConfigVersion.cmake
  DESTINATION ${MSA_INSTALL_CMAKEDIR}/MSA)
