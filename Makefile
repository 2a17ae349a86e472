# The C library: build, install (header, shared and static library, pkg-config file), and
# regenerate the header.
#
# Installed shared library (Linux; macOS likewise with .dylib names):
#   libdockreg.so.X.Y.Z            the file
#   libdockreg.so.X -> .so.X.Y.Z   its SONAME, what programs load (NEEDED libdockreg.so.X)
#   libdockreg.so   -> .so.X       for the linker's -ldockreg
# Run `ldconfig` after installing into a system directory (not needed with DESTDIR packaging).
#
#   make                          # cargo build --release --lib
#   make install PREFIX=/usr/local  # build, then install under PREFIX (DESTDIR is honoured)
#   make uninstall PREFIX=/usr/local
#   make header                   # regenerate include/dockreg.h from src/ffi (cbindgen)
#
# Then: cc app.c $(pkg-config --cflags --libs dockreg)
# (static: cc app.c $(pkg-config --cflags --libs --static dockreg) with only libdockreg.a installed,
# or link $(LIBDIR)/libdockreg.a explicitly).

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CARGO ?= cargo
PROFILE ?= release
CARGO_TARGET_DIR ?= target
# Where the built libraries are (install-files takes them from here).
LIB_DIR ?= $(CARGO_TARGET_DIR)/$(PROFILE)

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
# The shared library's names: the real file carries the full version, the SONAME (what
# programs record as NEEDED) the major version, and the plain name is for the linker (-ldockreg).
UNAME_S ?= $(shell uname -s)
ifeq ($(UNAME_S),Darwin)
SO_BUILT := libdockreg.dylib
SO_REAL := libdockreg.$(VERSION).dylib
SO_MAJOR := libdockreg.$(MAJOR).dylib
SO_DEV := libdockreg.dylib
else
SO_BUILT := libdockreg.so
SO_REAL := libdockreg.so.$(VERSION)
SO_MAJOR := libdockreg.so.$(MAJOR)
SO_DEV := libdockreg.so
endif
# What the static library needs besides itself (rustc --print native-static-libs, Linux/glibc).
LIBS_PRIVATE ?= -lpthread -ldl -lm -lrt -lutil -lgcc_s

INSTALL ?= install

ifeq ($(PROFILE),release)
CARGO_PROFILE_FLAG := --release
else ifeq ($(PROFILE),debug)
CARGO_PROFILE_FLAG :=
else
CARGO_PROFILE_FLAG := --profile $(PROFILE)
endif

.PHONY: all build install install-files uninstall header

all: build

build:
	$(CARGO) build --lib $(CARGO_PROFILE_FLAG)

install: build
	$(MAKE) install-files

# Installs what `build` made, without building (for packaging, and for tests that build
# through cargo themselves).
install-files:
	$(INSTALL) -d "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(PKGCONFIGDIR)"
	$(INSTALL) -m 644 include/dockreg.h "$(DESTDIR)$(INCLUDEDIR)/dockreg.h"
	$(INSTALL) -m 755 "$(LIB_DIR)/$(SO_BUILT)" "$(DESTDIR)$(LIBDIR)/$(SO_REAL)"
	ln -sf "$(SO_REAL)" "$(DESTDIR)$(LIBDIR)/$(SO_MAJOR)"
	ln -sf "$(SO_MAJOR)" "$(DESTDIR)$(LIBDIR)/$(SO_DEV)"
	$(INSTALL) -m 644 "$(LIB_DIR)/libdockreg.a" "$(DESTDIR)$(LIBDIR)/libdockreg.a"
	printf '%s\n' \
	  'prefix=$(PREFIX)' \
	  'libdir=$(LIBDIR)' \
	  'includedir=$(INCLUDEDIR)' \
	  '' \
	  'Name: dockreg' \
	  'Description: Client for Docker/OCI container registries (C ABI)' \
	  'Version: $(VERSION)' \
	  'Libs: -L$${libdir} -ldockreg' \
	  'Libs.private: $(LIBS_PRIVATE)' \
	  'Cflags: -I$${includedir}' \
	  > "$(DESTDIR)$(PKGCONFIGDIR)/dockreg.pc"
	chmod 644 "$(DESTDIR)$(PKGCONFIGDIR)/dockreg.pc"

uninstall:
	rm -f "$(DESTDIR)$(INCLUDEDIR)/dockreg.h" "$(DESTDIR)$(LIBDIR)/$(SO_DEV)" \
	  "$(DESTDIR)$(LIBDIR)/$(SO_MAJOR)" "$(DESTDIR)$(LIBDIR)/$(SO_REAL)" \
	  "$(DESTDIR)$(LIBDIR)/libdockreg.a" "$(DESTDIR)$(PKGCONFIGDIR)/dockreg.pc"

# cbindgen runs as a library inside the header test, so no extra tool is needed.
header:
	DOCKREG_BLESS=1 $(CARGO) test --test ffi_header committed_header_is_up_to_date
