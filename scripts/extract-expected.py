#!/usr/bin/env python3
"""Expected values for the NetCDF reader tests, extracted with an independent reader.

The values come from netCDF-C's own `ncdump` (Debian package netcdf-bin, 4.9.0),
not from the TypeScript code under test: the CDL text it prints is parsed here
and the CF decoding (unpacking, missing values, times) is recomputed in plain
Python from the raw values and the attributes. Times are additionally checked
against `ncdump -i` (netCDF-C's own time decoding, microsecond precision)
wherever it can decode the units; the script stops if the two disagree.

Exact command (from the repository root; writes one JSON file per product):

    apt-get install -y netcdf-bin   # provides ncdump
    python3 scripts/extract-expected.py examples/data test/fixtures/netcdf-expected

Rules mirrored from the library documentation (src/netcdf/cf.ts):
- packed (scale_factor/add_offset): value = float64(raw) * scale + offset;
  raw == _FillValue or in missing_value -> null (NaN);
- times `<unit> since <epoch>`: epoch + raw * unit, float raws rounded to the
  nearest microsecond (exact rational arithmetic), fill values and NaN -> "NaT";
  Cryo-TEMPO's `UTC seconds since 00:00:00 1-Jan-2000` is 2000-01-01T00:00:00Z;
- other floats: fill/missing -> null (NaN); other integers: raw values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

# Variables sampled per product (absolute paths), chosen to cover: a time
# variable, packed integers with and without add_offset, fill-valued elements,
# plain integer flags, NaN missing values and 2-D variables.
SPEC = {
    "JA1_": ["/time", "/time_20hz", "/ssha", "/alt", "/range_20hz_ku", "/surface_type", "/meas_ind", "/lat"],
    "S6A_": [
        "/data_01/time",
        "/data_01/ku/ssha",
        "/data_01/altitude",
        "/data_01/latitude",
        "/data_01/surface_classification_flag",
        "/data_01/ku/range_ocean",
        "/data_01/ku/swh_ocean_numval",
    ],
    "CS_": ["/time", "/elevation", "/latitude", "/surface_type", "/basin_id", "/uncertainty"],
    "ascat_": ["/time", "/wind_speed", "/lat", "/wvc_quality_flag", "/model_dir"],
}

UNIT_SECONDS = {
    "days": Fraction(86400), "day": Fraction(86400), "d": Fraction(86400),
    "hours": Fraction(3600), "hour": Fraction(3600), "h": Fraction(3600),
    "minutes": Fraction(60), "minute": Fraction(60), "min": Fraction(60),
    "seconds": Fraction(1), "second": Fraction(1), "sec": Fraction(1), "s": Fraction(1),
}

# ---------------------------------------------------------------------------
# CDL parsing (the output of ncdump)

TOKEN = re.compile(
    r'\s*(?:(//[^\n]*)|("(?:[^"\\]|\\.)*")|([{}();,=:])|([^\s{}();,=:"]+))', re.S
)
NUMBER = re.compile(
    r"^([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|NaN|Infinity))"
    r"(ULL|ull|LL|ll|UB|ub|US|us|UL|ul|U|u|B|b|S|s|L|l|F|f|D|d)?$"
)
SUFFIX_TYPE = {
    None: None, "b": "byte", "B": "byte", "s": "short", "S": "short", "l": "int", "L": "int",
    "LL": "int64", "ll": "int64", "UB": "ubyte", "ub": "ubyte", "US": "ushort", "us": "ushort",
    "U": "uint", "u": "uint", "UL": "uint", "ul": "uint", "ULL": "uint64", "ull": "uint64",
    "f": "float", "F": "float", "d": "double", "D": "double",
}
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0", "r": "\r", "b": "\b", "f": "\f"}


def unescape(text: str) -> str:
    """The value of a CDL string literal: backslash escapes, `\\ooo` octal bytes, UTF-8."""
    raw = text[1:-1].encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            octal = re.match(rb"[0-7]{3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 4
                continue
            nxt = chr(raw[i + 1])
            out.extend(ESCAPES.get(nxt, nxt).encode("utf-8"))
            i += 2
            continue
        out.append(c)
        i += 1
    return out.decode("utf-8")


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot tokenize CDL near {text[pos:pos + 40]!r}")
        pos = m.end()
        if m.group(1) is not None:
            continue
        tok = m.group(2) or m.group(3) or m.group(4)
        if tok is not None:
            tokens.append(tok)
    return tokens


def parse_value(tok: str, default_type: str | None = None):
    """One CDL value: (type, python value); `_` is the fill marker."""
    if tok.startswith('"'):
        return "char", unescape(tok)
    if tok == "_":
        return None, "_"
    m = NUMBER.match(tok)
    if m is None:
        raise ValueError(f"not a CDL value: {tok!r}")
    kind = SUFFIX_TYPE[m.group(2)]
    body = m.group(1)
    if kind is None:
        kind = "double" if re.search(r"[.eE]|NaN|Infinity", body) else "int"
    if kind in ("float", "double"):
        return kind, float(body)
    return kind, int(body)


class Group:
    def __init__(self, path: str):
        self.path = path
        self.dims: dict[str, int] = {}
        self.unlimited: set[str] = set()
        self.vars: dict[str, dict] = {}
        self.attrs: dict[str, dict] = {}
        self.data: dict[str, list] = {}
        self.groups: dict[str, "Group"] = {}


def parse_cdl(text: str) -> Group:
    toks = tokenize(text)
    i = 0

    def expect(t: str):
        nonlocal i
        if toks[i] != t:
            raise ValueError(f"expected {t!r}, got {toks[i]!r} at token {i}")
        i += 1

    def values_until_semicolon():
        nonlocal i
        out = []
        while toks[i] != ";":
            if toks[i] != ",":
                out.append(toks[i])
            i += 1
        i += 1
        return out

    def parse_group(path: str) -> Group:
        nonlocal i
        g = Group(path)
        section = None
        while True:
            t = toks[i]
            if t == "}":
                i += 1
                return g
            if t in ("dimensions", "variables", "data", "types") and toks[i + 1] == ":":
                section = t
                i += 2
                continue
            if t == "group" and toks[i + 1] == ":":
                name = toks[i + 2]
                i += 3
                expect("{")
                child = parse_group(f"{path.rstrip('/')}/{name}")
                g.groups[name] = child
                continue
            if section == "dimensions":
                name = toks[i]
                i += 1
                expect("=")
                size = toks[i]
                i += 1
                if size == "UNLIMITED":
                    g.unlimited.add(name)
                    g.dims[name] = -1
                else:
                    g.dims[name] = int(size)
                while toks[i] == ",":  # several dims on one line
                    i += 1
                    name2 = toks[i]
                    i += 2
                    g.dims[name2] = int(toks[i])
                    i += 1
                expect(";")
            elif section == "variables" or t == ":":
                if t == ":" or toks[i + 1] == ":":
                    owner = None if t == ":" else t
                    i += 1 if t == ":" else 2
                    attr = toks[i]
                    i += 1
                    expect("=")
                    raw = values_until_semicolon()
                    parsed = [parse_value(v) for v in raw]
                    kind = parsed[0][0] if parsed else "char"
                    if kind == "char":
                        value = "".join(v for _, v in parsed)
                    else:
                        value = [v for _, v in parsed]
                    entry = {"type": kind, "value": value}
                    if owner is None:
                        g.attrs[attr] = entry
                    else:
                        g.vars[owner]["attrs"][attr] = entry
                else:
                    vtype = t
                    name = toks[i + 1]
                    i += 2
                    dims: list[str] = []
                    if toks[i] == "(":
                        i += 1
                        while toks[i] != ")":
                            if toks[i] != ",":
                                dims.append(toks[i])
                            i += 1
                        i += 1
                    expect(";")
                    g.vars[name] = {"type": vtype, "dims": dims, "attrs": {}}
            elif section == "data":
                name = toks[i]
                i += 1
                expect("=")
                g.data[name] = values_until_semicolon()
            else:
                raise ValueError(f"unexpected token {t!r} at {i}")

    # header: netcdf NAME {
    while toks[i] != "{":
        i += 1
    i += 1
    return parse_group("/")


def find_group(root: Group, path: str) -> Group:
    g = root
    for part in [p for p in path.split("/") if p]:
        g = g.groups[part]
    return g


def ncdump(path: Path, *args: str) -> str:
    out = subprocess.run(["ncdump", *args, str(path)], check=True, capture_output=True).stdout
    # `ncdump -i` prints undecodable bytes in comments for absurd time fill values: replace them.
    return out.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------
# CF decoding, independently of the library

EPOCH_1970 = dt.datetime(1970, 1, 1)


def parse_time_units(units: str):
    special = re.fullmatch(r"\s*UTC\s+(\w+)\s+since\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{1,2})-(\w{3})-(\d{4})\s*", units)
    if special:
        months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        unit, hh, mm, ss, day, mon, year = special.groups()
        epoch = dt.datetime(int(year), months.index(mon.lower()) + 1, int(day), int(hh), int(mm), int(ss))
        return UNIT_SECONDS[unit.lower()], epoch
    m = re.fullmatch(r"\s*(\w+)\s+since\s+(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?\s*(?:UTC|Z)?\s*", units)
    if not m:
        raise ValueError(f"unparseable units {units!r}")
    unit, y, mo, d, h, mi, s, frac = m.groups()
    epoch = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    if frac and int(frac) != 0:
        raise ValueError("fractional epochs are not used by these products")
    return UNIT_SECONDS[unit.lower()], epoch


def iso_ns(epoch: dt.datetime, seconds: Fraction) -> str:
    """ISO text with 9 fractional digits of epoch + seconds (seconds already at µs precision)."""
    micro = int(seconds * 1_000_000)
    assert Fraction(micro, 1_000_000) == seconds
    t = epoch + dt.timedelta(microseconds=micro)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{t.microsecond:06d}000"


def decode_time(raw, is_float: bool, unit: Fraction, epoch: dt.datetime, fills: list) -> str:
    if raw == "_" or raw in fills or (isinstance(raw, float) and math.isnan(raw)):
        return "NaT"
    if is_float:
        # exact rational value of the double, rounded to the nearest microsecond (half to even)
        micro = round(Fraction(raw) * unit * 1_000_000)
        return iso_ns(epoch, Fraction(micro, 1_000_000))
    return iso_ns(epoch, Fraction(int(raw)) * unit)


def ncdump_iso(text: str) -> str:
    """netCDF-C prints `2002-01-15T06:07:6.819279` (unpadded seconds); normalise to 9 digits."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{1,2})(?:\.(\d+))?)?)?", text)
    if not m:
        raise ValueError(f"unexpected ncdump -i time {text!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    return f"{y}-{mo}-{d}T{h or '00'}:{mi or '00'}:{int(s or 0):02d}.{(frac or '').ljust(9, '0')}"


# ---------------------------------------------------------------------------


def attr_json(entry: dict):
    kind, value = entry["type"], entry["value"]
    if kind == "char":
        return {"type": "char", "value": value}
    vals = [("NaN" if isinstance(v, float) and math.isnan(v) else str(v) if kind in ("int64", "uint64") else v) for v in value]
    return {"type": kind, "value": vals}


def sample_indices(n: int, raws: list, missing: list[bool], seed: str) -> list[int]:
    idx = {0, n - 1, n // 4, n // 2, (3 * n) // 4}
    fills = [i for i, m in enumerate(missing) if m]
    valid = [i for i, m in enumerate(missing) if not m]
    if fills:
        idx.update({fills[0], fills[-1], fills[len(fills) // 2]})
    if valid:
        idx.update({valid[0], valid[-1]})
    rng = random.Random(seed)
    idx.update(rng.randrange(n) for _ in range(5))
    return sorted(i for i in idx if 0 <= i < n)


def extract(path: Path) -> dict:
    prefix = next(p for p in SPEC if path.name.startswith(p))
    root = parse_cdl(ncdump(path, "-p", "9,17"))
    kind = ncdump(path, "-k").strip()

    def dims_of(g: Group) -> dict:
        return {
            name: {"size": size if size >= 0 else None, "unlimited": name in g.unlimited}
            for name, size in g.dims.items()
        }

    groups = {}

    def walk(g: Group):
        groups[g.path] = {"dimensions": dims_of(g), "variables": sorted(g.vars)}
        for c in g.groups.values():
            walk(c)

    walk(root)

    # unlimited dimension lengths: from the `// (N currently)` comment, i.e. the data length
    for gpath, ginfo in groups.items():
        g = find_group(root, gpath)
        for name, info in ginfo["dimensions"].items():
            if info["unlimited"]:
                coord = g.data.get(name)
                info["size"] = len(coord) if coord is not None else None

    out = {
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "reader": subprocess.run(["ncdump"], capture_output=True, text=True).stderr.strip().splitlines()[-1],
        "kind": kind,
        "global_attributes": {k: attr_json(v) for k, v in root.attrs.items() if k != "_NCProperties"},
        "groups": groups,
        "variables": {},
    }

    iso_times: dict[str, list[str]] = {}

    for vpath in SPEC[prefix]:
        gpath, name = vpath.rsplit("/", 1)
        g = find_group(root, gpath or "/")
        var = g.vars[name]
        raws = [parse_value(t)[1] for t in g.data[name]]
        attrs = var["attrs"]
        fill = attrs.get("_FillValue", {}).get("value", [])
        missing_values = attrs.get("missing_value", {}).get("value", [])
        fills = [*fill[:1], *missing_values]
        is_float = var["type"] in ("float", "double")
        missing = [
            r == "_" or r in fills or (isinstance(r, float) and math.isnan(r)) for r in raws
        ]
        shape = []
        for d in var["dims"]:
            owner = g
            size = None
            # the dimension may be declared in an ancestor group
            parts = [p for p in g.path.split("/") if p]
            for k in range(len(parts), -1, -1):
                owner = find_group(root, "/" + "/".join(parts[:k]))
                if d in owner.dims:
                    size = owner.dims[d] if owner.dims[d] >= 0 else len(owner.data.get(d, []))
                    break
            shape.append(size)
        assert math.prod(shape) == len(raws), (vpath, shape, len(raws))
        units = attrs.get("units", {}).get("value")
        scale = attrs.get("scale_factor", {}).get("value", [None])[0]
        offset = attrs.get("add_offset", {}).get("value", [None])[0]
        if isinstance(units, str) and re.search(r"\ssince\s", f" {units} "):
            vkind = "time"
            unit, epoch = parse_time_units(units)
        elif scale is not None or offset is not None:
            vkind = "packed"
        elif is_float:
            vkind = "float"
        else:
            vkind = "int"
        samples = []
        for i in sample_indices(len(raws), raws, missing, vpath):
            r = raws[i]
            raw_value = fill[0] if r == "_" else r
            if isinstance(raw_value, float) and math.isnan(raw_value):
                raw_json = "NaN"
            else:
                raw_json = raw_value
            if vkind == "time":
                value = decode_time(raw_value, is_float, unit, epoch, fills)
            elif vkind == "packed":
                value = None if missing[i] else float(raw_value) * float(scale if scale is not None else 1.0) + float(offset if offset is not None else 0.0)
            elif vkind == "float":
                value = None if missing[i] else raw_value
            else:
                value = raw_value
            samples.append({"index": i, "raw": raw_json, "value": value})
        entry = {
            "type": var["type"],
            "dimensions": var["dims"],
            "shape": shape,
            "kind": vkind,
            "attributes": {k: attr_json(v) for k, v in attrs.items()},
            "count": len(raws),
            "missing": sum(missing),
            "samples": samples,
        }
        if vkind == "time":
            iso_times[vpath] = []
            # one time per row (first non-missing cell) for 2-D times, as the row-time option does
            if len(shape) == 2:
                width = shape[1]
                rows = {}
                for rsample in sample_indices(shape[0], [], [False] * shape[0], vpath + "#rows"):
                    cells = range(rsample * width, (rsample + 1) * width)
                    first = next((c for c in cells if not missing[c]), None)
                    rows[str(rsample)] = (
                        "NaT" if first is None else decode_time(raws[first], is_float, unit, epoch, fills)
                    )
                entry["row_first_valid"] = rows
        out["variables"][vpath] = entry

    # Cross-check the times with netCDF-C's own decoding (ncdump -i) when it can decode them.
    iso_root = None
    try:
        iso_root = parse_cdl(ncdump(path, "-i"))
    except subprocess.CalledProcessError:
        iso_root = None
    checked = []
    for vpath, entry in out["variables"].items():
        if entry["kind"] != "time" or iso_root is None:
            continue
        gpath, name = vpath.rsplit("/", 1)
        values = find_group(iso_root, gpath or "/").data.get(name, [])
        if not values or not values[0].startswith('"'):
            continue  # ncdump could not decode these units
        for s in entry["samples"]:
            text = values[s["index"]]
            if text == "_":
                assert s["value"] == "NaT", (vpath, s)
                continue
            theirs = ncdump_iso(unescape(text))
            if theirs != s["value"]:
                sys.exit(f"{path.name} {vpath}[{s['index']}]: ncdump -i says {theirs}, computed {s['value']}")
        checked.append(vpath)
    out["times_checked_with_ncdump_i"] = checked
    return out


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: extract-expected.py <data dir> <output dir>")
    data, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(data.glob("*.nc")):
        if not any(path.name.startswith(p) for p in SPEC):
            continue
        result = extract(path)
        (target / f"{path.name}.json").write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        print(f"{path.name}: {len(result['variables'])} variables, times checked with ncdump -i: {result['times_checked_with_ncdump_i']}")


if __name__ == "__main__":
    main()
