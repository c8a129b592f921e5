#!/usr/bin/env python3
"""Generates url_idna_data.h, the Unicode tables behind url_idna.c's UTS #46 implementation.

Usage (from the repository root):
    src/webapi/url_idna_data.py IdnaMappingTable.txt /usr/share/unicode > src/webapi/url_idna_data.h
    clang-format -i src/webapi/url_idna_data.h

IdnaMappingTable.txt is the UTS #46 data file (https://www.unicode.org/Public/idna/<version>/);
the committed tables come from version 15.1.0. The second argument is a Unicode Character
Database directory providing UnicodeData.txt, DerivedNormalizationProps.txt and
extracted/Derived{BidiClass,JoiningType}.txt: Debian's unicode-data package (15.0.0 here).

Tables (all sorted by code point, looked up by binary search):
  idna_start/idna_info  IDNA status per range; info = status | DELTA_FLAG | payload << 4, the
                        payload being a signed delta, or mapping length | pool offset << 5
  idna_pool             the code points of the mappings
  *_ranges              start << 8 | value, covering all of Unicode: canonical combining class,
                        General_Category=Mark, Bidi_Class (index into BIDI), Joining_Type
  decomp_*              canonical decompositions (second is 0 for singletons)
  compose_*             primary composites for canonical composition
"""
import re
import sys

# IDNA statuses, as stored in the low 3 bits of an idna_info entry.
STATUS = {
    "valid": 0,
    "ignored": 1,
    "mapped": 2,
    "deviation": 3,
    "disallowed": 4,
    "disallowed_STD3_valid": 5,
    "disallowed_STD3_mapped": 6,
}
DELTA_FLAG = 8  # the range maps each code point to itself plus a constant delta

BIDI = ["L", "R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"]  # others: 11
JOINING = ["U", "C", "D", "L", "R", "T"]


def ranges(path):
    """Yields (first, last, fields) for each data line of a UCD-style file."""
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        bounds = fields[0].split("..")
        yield int(bounds[0], 16), int(bounds[-1], 16), fields[1:]


def idna_table(path):
    entries = []  # (start, status, mapping tuple)
    for first, last, f in ranges(path):
        mapping = tuple(int(x, 16) for x in f[1].split()) if len(f) > 1 and f[1] else ()
        status = STATUS[f[0]]
        if mapping and first != last:
            for cp in range(first, last + 1):
                entries.append((cp, cp, status, mapping))
        else:
            entries.append((first, last, status, mapping))
    out = []  # [start, end, status, payload] payload: mapping tuple or delta int
    for start, end, status, mapping in entries:
        prev = out[-1] if out else None
        if prev and prev[1] + 1 == start and not mapping and prev[2] == status and prev[3] == ():
            prev[1] = end
            continue
        if prev and len(mapping) == 1 and start == end and prev[1] + 1 == start:
            delta = mapping[0] - start
            if prev[2] == status | DELTA_FLAG and prev[3] == delta:
                prev[1] = end
                continue
            if (prev[2] == status and isinstance(prev[3], tuple) and len(prev[3]) == 1
                    and prev[0] == prev[1] and prev[3][0] - prev[0] == delta):
                prev[1], prev[2], prev[3] = end, status | DELTA_FLAG, delta
                continue
        out.append([start, end, status, mapping])
    pool, pool_index = [], {}
    starts, infos = [], []
    for start, end, status, payload in out:
        starts.append(start)
        if status & DELTA_FLAG:
            assert -(1 << 21) < payload < (1 << 21)
            infos.append(status | ((payload & 0x3FFFFF) << 4))
        elif payload:
            if payload not in pool_index:
                pool_index[payload] = len(pool)
                pool.extend(payload)
            offset = pool_index[payload]
            assert len(payload) < 32 and offset < (1 << 16)
            infos.append(status | (len(payload) << 4) | (offset << 9))
        else:
            infos.append(status)
    return starts, infos, pool


def packed_ranges(values, default):
    """values: dict cp -> small int. Returns start << 8 | value entries covering all of Unicode."""
    out = []
    current = None
    for cp in range(0x110000):
        v = values.get(cp, default)
        if v != current:
            out.append(cp << 8 | v)
            current = v
    return out


def main():
    idna_path, ucd = sys.argv[1], sys.argv[2]
    starts, infos, pool = idna_table(idna_path)

    ccc, decomp, marks = {}, {}, {}
    for line in open(ucd + "/UnicodeData.txt", encoding="utf-8"):
        f = line.split(";")
        cp = int(f[0], 16)
        if f[3] != "0":
            ccc[cp] = int(f[3])
        if f[2].startswith("M"):
            marks[cp] = 1
        if f[5] and not f[5].startswith("<"):
            decomp[cp] = [int(x, 16) for x in f[5].split()]
    exclusions = set()
    for first, last, f in ranges(ucd + "/DerivedNormalizationProps.txt"):
        if f[0] == "Full_Composition_Exclusion":
            exclusions.update(range(first, last + 1))
    compose = sorted((d[0], d[1], cp) for cp, d in decomp.items()
                     if len(d) == 2 and cp not in exclusions)
    bidi, joining = {}, {}
    for first, last, f in ranges(ucd + "/extracted/DerivedBidiClass.txt"):
        v = BIDI.index(f[0]) if f[0] in BIDI else len(BIDI)
        for cp in range(first, last + 1):
            bidi[cp] = v
    for first, last, f in ranges(ucd + "/extracted/DerivedJoiningType.txt"):
        for cp in range(first, last + 1):
            joining[cp] = JOINING.index(f[0])

    w = sys.stdout.write
    w("/* Generated by url_idna_data.py from the UTS #46 IdnaMappingTable.txt and the Unicode\n"
      " * Character Database; do not edit. Included by url_idna.c only. */\n\n")

    def array(ctype, name, values):
        w(f"static const {ctype} {name}[{len(values)}] = {{\n")
        for i in range(0, len(values), 8):
            w("    " + ", ".join(f"0x{v:x}" for v in values[i:i + 8]) + ",\n")
        w("};\n\n")

    array("uint32_t", "idna_start", starts)
    array("uint32_t", "idna_info", infos)
    array("uint32_t", "idna_pool", pool)
    array("uint32_t", "ccc_ranges", packed_ranges(ccc, 0))
    array("uint32_t", "mark_ranges", packed_ranges(marks, 0))
    array("uint32_t", "bidi_ranges", packed_ranges(bidi, 0))
    array("uint32_t", "joining_ranges", packed_ranges(joining, 0))
    keys = sorted(decomp)
    array("uint32_t", "decomp_cp", keys)
    array("uint32_t", "decomp_first", [decomp[k][0] for k in keys])
    array("uint32_t", "decomp_second", [decomp[k][1] if len(decomp[k]) > 1 else 0 for k in keys])
    array("uint32_t", "compose_first", [c[0] for c in compose])
    array("uint32_t", "compose_second", [c[1] for c in compose])
    array("uint32_t", "compose_result", [c[2] for c in compose])


if __name__ == "__main__":
    main()
