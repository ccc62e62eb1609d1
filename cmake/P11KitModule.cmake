# p11-kit registration: `cmake --install` (make install) writes ferrohsm.module into the
# directory p11-kit reads module configurations from
# (`pkg-config --variable=p11_module_configs p11-kit-1`, /usr/share/p11-kit/modules on
# Debian), naming the installed library by its absolute path under the install prefix.
# The prefix is the one in effect at install time (`cmake --install … --prefix P` works);
# DESTDIR applies as to any absolute destination. tests/interop/p11kit_test.sh checks it.
pkg_get_variable(_p11kit_configs p11-kit-1 p11_module_configs)
if(NOT _p11kit_configs)
  set(_p11kit_configs /usr/share/p11-kit/modules)
  message(STATUS "p11-kit-1.pc not found: ferrohsm.module goes to ${_p11kit_configs}")
endif()
set(FERROHSM_P11KIT_MODULE_DIR "${_p11kit_configs}" CACHE PATH
    "Directory for ferrohsm.module (p11-kit module configurations)")

install(CODE "
  set(_dir \"\$ENV{DESTDIR}${FERROHSM_P11KIT_MODULE_DIR}\")
  set(_lib \"\${CMAKE_INSTALL_PREFIX}/lib/$<TARGET_FILE_NAME:ferrohsm-pkcs11>\")
  message(STATUS \"Installing: \${_dir}/ferrohsm.module (module: \${_lib})\")
  file(MAKE_DIRECTORY \"\${_dir}\")
  file(WRITE \"\${_dir}/ferrohsm.module\"
       \"# FerroHSM, the software HSM (PKCS#11 3.0); written by its install step\\nmodule: \${_lib}\\n\")
")
