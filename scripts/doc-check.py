#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""doc-check.py [--count N]: README and docs/*.md against the tree.

Every path of the project a doc names (scripts/..., selftests/...,
docs/..., common/..., host/..., guest/..., vmm/...) must exist; every
`make TARGET` must be a Makefile target; every profile named after vm.sh
must be defined in scripts/profiles.sh; every option named after vm.sh
must be in its usage text; a doc must not cite issue numbers.
With --count N (the total of the run that just ended), README's
"N tests" must be N. Prints one TAP line per doc and check; exits non-zero
on any mismatch.
"""
import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = [os.path.join(TOP, 'README')] + sorted(glob.glob(os.path.join(TOP, 'docs', '*.md')))
ROOTS = ('scripts/', 'selftests/', 'docs/', 'common/', 'host/', 'guest/', 'vmm/')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def make_targets():
    text = read(os.path.join(TOP, 'Makefile'))
    return set(re.findall(r'^([a-z][a-z_-]*):', text, re.M))


def profiles():
    text = read(os.path.join(TOP, 'scripts', 'profiles.sh'))
    return {n.replace('_', '-') for n in re.findall(r'^profile_([a-z0-9_]+)\(\)', text, re.M)}


def vm_options():
    text = read(os.path.join(TOP, 'scripts', 'vm.sh'))
    return set(re.findall(r'^#\s+(--[a-z-]+)', text, re.M))


def in_kernel_tree(p):
    """A path of the kernel's own tree (scripts/config, ...) named as such."""
    cache = os.environ.get('IOMMU_NEST_CACHE', '/var/cache/iommu-nest')
    return any(os.path.exists(os.path.join(d, p))
               for d in glob.glob(os.path.join(cache, 'src', 'linux-source-*/')))


def version_matches():
    dkms = re.search(r'^PACKAGE_VERSION="([^"]+)"', read(os.path.join(TOP, 'dkms.conf')), re.M)
    hdr = re.search(r'IOMMU_NEST_VERSION\s+"([^"]+)"', read(os.path.join(TOP, 'common', 'version.h')))
    return dkms and hdr and dkms.group(1) == hdr.group(1)


def problems(path, text, targets, profs, opts):
    out = []
    for m in re.finditer(r'(?<![\w/.$-])((?:%s)[A-Za-z0-9_./*-]*[A-Za-z0-9_*])' %
                         '|'.join(re.escape(r) for r in ROOTS), text):
        p = m.group(1)
        if '*' in p:
            if not glob.glob(os.path.join(TOP, p)):
                out.append('no file matches %s' % p)
        elif not os.path.exists(os.path.join(TOP, p)) and \
                not p.endswith('.ko') and not in_kernel_tree(p):
            out.append('no such path %s' % p)
    for t in re.findall(r'`make ([a-z][a-z_-]*)', text):
        if t not in targets:
            out.append('no make target %s' % t)
    for cmd in re.findall(r'scripts/vm\.sh((?: --?[a-z-]+(?: [^ `\n-][^ `\n]*)?)*) ([a-z][a-z0-9-]*)', text):
        opt_part, prof = cmd
        for o in re.findall(r'(--[a-z-]+)', opt_part):
            if o not in opts:
                out.append('vm.sh has no option %s' % o)
        if prof not in profs and prof not in ('profile', 'pgt'):
            out.append('no profile %s' % prof)
    for m in re.finditer(r'(?<!virtio-spec )\bissues? #?\d+', text, re.I):
        out.append('cites "%s"' % m.group(0))
    return out


def main():
    count = None
    if len(sys.argv) == 3 and sys.argv[1] == '--count':
        count = int(sys.argv[2])
    targets, profs, opts = make_targets(), profiles(), vm_options()
    bad = 0
    n = 0
    for path in DOCS:
        text = read(path)
        name = os.path.relpath(path, TOP)
        if count is not None:
            if name != 'README':
                continue
            found = re.findall(r'(\d+) tests\b', text)
            n += 1
            if found and all(int(x) == count for x in found):
                print('ok %d %s: %s tests, as run' % (n, name, count))
            else:
                bad += 1
                print('not ok %d %s: says %s tests, the run had %d' %
                      (n, name, ', '.join(found) or 'no count of', count))
            continue
        n += 1
        p = problems(path, text, targets, profs, opts)
        if p:
            bad += 1
            print('not ok %d %s' % (n, name))
            for x in p:
                print('#   %s' % x)
        else:
            print('ok %d %s' % (n, name))
    if count is None:
        n += 1
        if version_matches():
            print('ok %d dkms.conf and common/version.h give one version' % n)
        else:
            bad += 1
            print('not ok %d dkms.conf PACKAGE_VERSION differs from common/version.h' % n)
    print('1..%d' % n)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
