# FERROHSM_SANITIZE selects the sanitizer build: "address,undefined" for the suite,
# "thread" for the concurrency tests. Flags apply to every target in the build.
if(FERROHSM_SANITIZE)
  set(_san "-fsanitize=${FERROHSM_SANITIZE}" -fno-omit-frame-pointer -g)
  if(FERROHSM_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san})
  add_link_options(-fsanitize=${FERROHSM_SANITIZE})
endif()
