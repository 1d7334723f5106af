# SPDX-License-Identifier: GPL-2.0
#
#   make                 build both modules against KDIR
#   make check           everything: deps, test kernel, QEMU, lint, VM tests
#   make demo            boot the test VM(s) and show the modules at work
#   make bench           DMA map/unmap and invalidation benchmarks
#   make selftests       build the kselftest programs (arm64, static) against
#                        KDIR (with usr-headers/) and KSRC, or the harness's
#                        test kernel when KDIR is not given
#   make fuzz            the uAPI and request fuzzers, long runs
#   make mutants         source mutations the tests must catch, as a table
#   make qemu-asan       the QEMU qtests on an AddressSanitizer build of it
#
# Cross build: make KDIR=<arm64 build dir> ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
# Pass W=1 C=2 for extra warnings and sparse, as make check does.

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all modules clean check demo bench selftests modules_install fuzz mutants qemu-asan

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

selftests:
ifeq ($(origin KDIR),command line)
	$(MAKE) -C selftests KDIR=$(KDIR) KSRC=$(or $(KSRC),$(KDIR)/source)
else
	$(MAKE) -C selftests KDIR="$$(bash scripts/kernel.sh debug)" \
		KSRC="$$(bash -c '. scripts/lib.sh && kernel_src')"
endif

check:
	bash scripts/check.sh

demo:
	bash scripts/demo.sh

bench:
	bash scripts/bench.sh

# make mutants [MUTANTS="name..."]: scripts/mutants.list, one VM each
mutants:
	bash scripts/mutants.sh $(MUTANTS)

# A second build of the patched QEMU with -fsanitize=address (cached beside
# the first), then every qtest and the request fuzzer on it.
qemu-asan:
	bash vmm/qemu/build.sh --asan

# make fuzz [FUZZ_SECONDS=600] [FUZZ_SEED=S] [FUZZ_THREADS=9]
#           [FUZZ_PROFILE=smmuv3-nest|smmuv3-nest-kasan]: host_fuzz_test alone
# in a test VM, FUZZ_SECONDS of its seeded sequence (FUZZ_SEED replays a
# run's) and a fifth of that racing; then the QEMU request fuzzer, when
# vmm/qemu/build.sh has one, for as long.
FUZZ_SECONDS ?= 600
FUZZ_THREADS ?= 9
FUZZ_PROFILE ?= smmuv3-nest
fuzz:
	@race=$$(( $(FUZZ_SECONDS) / 5 )); t=$$(( $(FUZZ_SECONDS) + race + 300 )); rc=0; \
	TEST_TIMEOUT=$$t VM_TIMEOUT=$$(( t + 300 )) bash scripts/vm.sh $(FUZZ_PROFILE) \
		"host_fuzz_test --iters 0 --seconds $(FUZZ_SECONDS) --race-seconds $$race --threads $(FUZZ_THREADS)$(if $(FUZZ_SEED), --seed $(FUZZ_SEED))" || rc=1; \
	if grep -q -- '--fuzz' vmm/qemu/build.sh; then \
		VIOMMU_FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_SEED),VIOMMU_FUZZ_SEED=$(FUZZ_SEED)) \
			bash vmm/qemu/build.sh --fuzz || rc=1; \
	fi; exit $$rc

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
	$(MAKE) -C selftests clean
	rm -rf results
