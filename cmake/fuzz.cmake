# The fuzz build (-DNESGD_FUZZ=ON): nesgd_core and one libFuzzer executable per
# reader of outside bytes (fuzz/), every translation unit built with
# AddressSanitizer and UndefinedBehaviorSanitizer. No LibTorch, no CLI, no tests:
# the readers live in the torch-free library, which builds in seconds.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "NESGD_FUZZ needs clang's libFuzzer: configure with -DCMAKE_CXX_COMPILER=clang++ "
                      "(Debian: apt install clang libclang-rt-dev), or run scripts/fuzz.sh, which does both")
endif()

# Downloads are not fuzzed (the bytes are only hashed), so no libcurl here.
set(NESGD_WITH_DOWNLOAD OFF)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(nlohmann_json 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(LibArchive REQUIRED)

# Keep assert() (nlohmann::json checks its preconditions with it): a violated
# precondition is a bug the fuzzer should see.
foreach(config RELEASE RELWITHDEBINFO MINSIZEREL)
  string(REPLACE "-DNDEBUG" "" CMAKE_CXX_FLAGS_${config} "${CMAKE_CXX_FLAGS_${config}}")
endforeach()
# fuzzer-no-link: coverage feedback from the library; the executables add the
# libFuzzer driver. Every UBSan finding aborts, so the fuzzer counts it as a crash.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)

add_subdirectory(src)
add_subdirectory(fuzz)
