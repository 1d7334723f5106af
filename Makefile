# SPDX-License-Identifier: GPL-2.0
#
#   make                 build both modules against KDIR
#   make check           everything: deps, test kernel, QEMU, lint, VM tests
#   make demo            boot the test VM(s) and show the modules at work
#   make bench           DMA map/unmap and invalidation benchmarks
#   make selftests       build the kselftest programs (arm64, static)
#
# Cross build: make KDIR=<arm64 build dir> ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
# Pass W=1 C=2 for extra warnings and sparse, as make check does.

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all modules clean check demo bench selftests modules_install

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

selftests:
	$(MAKE) -C selftests

check:
	bash scripts/check.sh

demo:
	bash scripts/demo.sh

bench:
	bash scripts/bench.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
	$(MAKE) -C selftests clean
	rm -rf results
