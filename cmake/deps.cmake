# External libraries, all from Debian 12 packages (scripts/test installs them).
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(MARIADB REQUIRED IMPORTED_TARGET libmariadb)
# The admin port's HTTP server (its own thread) and `gtidproxy status`'s client.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# Query rules' regular expressions (PCRE2, 8-bit code units, JIT).
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
