#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare two ELF64 little-endian relocatable objects section by section (scripts/boot-test.sh).

    elfcmp.py A B

Sections are matched by name (and order among equal names); for each, type, flags, size and
contents are compared, ignoring where in the file they are. Prints "layout only" when every
section is equal (the files differ only in section order or offsets), else the sections that
differ. Exit 0 if contents are equal, 1 if not.
"""
import struct
import sys


def sections(path):
    with open(path, 'rb') as f:
        d = f.read()
    if d[:4] != b'\x7fELF' or d[4] != 2 or d[5] != 1:
        raise SystemExit(f'{path}: not an ELF64 little-endian file')
    shoff, = struct.unpack_from('<Q', d, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
    hdrs = [struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * shentsize) for i in range(shnum)]
    stro = hdrs[shstrndx][4]

    def name(off):
        e = d.index(b'\0', stro + off)
        return d[stro + off:e].decode('utf-8', 'replace')
    out, seen = {}, {}
    for h in hdrs[1:]:
        n = name(h[0])
        k = seen.get(n, 0)
        seen[n] = k + 1
        body = b'' if h[1] == 8 else d[h[4]:h[4] + h[5]]  # SHT_NOBITS
        out[(n, k)] = (h[1], h[2], h[5], h[8], body)
    return out


def main():
    a, b = sections(sys.argv[1]), sections(sys.argv[2])
    diffs = []
    for key in sorted(set(a) | set(b)):
        n = key[0] + (f'#{key[1]}' if key[1] else '')
        if key not in a:
            diffs.append(f'{n}: only in the second')
        elif key not in b:
            diffs.append(f'{n}: only in the first')
        elif a[key] != b[key]:
            (ta, fa, sa, aa, ca), (tb, fb, sb, ab, cb) = a[key], b[key]
            what = []
            if (ta, fa, aa) != (tb, fb, ab):
                what.append('header')
            if sa != sb:
                what.append(f'size {sa:#x} vs {sb:#x}')
            elif ca != cb:
                first = next(i for i in range(len(ca)) if ca[i] != cb[i])
                what.append(f'contents from {first:#x}')
            diffs.append(f'{n}: ' + ', '.join(what))
    if not diffs:
        print('layout only (every section equal)')
        return 0
    print(f'{len(diffs)} sections differ: ' + '; '.join(diffs[:12]) + (' ...' if len(diffs) > 12 else ''))
    return 1


if __name__ == '__main__':
    sys.exit(main())
