#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Lists the public headers, or checks that they include only standard and ocireg/ headers.
"""Public header hygiene for include/ocireg.

  public_headers.py list INCLUDE_DIR    prints "ocireg/x.h" for every public header, one a line
  public_headers.py check INCLUDE_DIR   fails unless every public header has `#pragma once`, includes
                                        "ocireg/..." headers that exist, and <...> headers only from
                                        the C++ standard library

An installed header that pulls in a third-party header makes every user of libocireg find and build
against that library too; the build tree cannot see this by compiling, since /usr/include is on the
default search path, hence the explicit check.
"""

import pathlib
import re
import sys

# The C++20 standard library headers, including the C compatibility headers <cxxx>.
STD_HEADERS = set("""
algorithm any array atomic barrier bit bitset charconv chrono codecvt compare complex concepts
condition_variable coroutine deque exception execution filesystem format forward_list fstream
functional future initializer_list iomanip ios iosfwd iostream istream iterator latch limits list
locale map memory memory_resource mutex new numbers numeric optional ostream queue random ranges
ratio regex scoped_allocator semaphore set shared_mutex source_location span sstream stack
stdexcept stop_token streambuf string string_view strstream syncstream system_error thread tuple
type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector version
cassert cctype cerrno cfenv cfloat cinttypes climits clocale cmath csetjmp csignal cstdarg cstddef
cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype
""".split())

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\b", re.M)


def public_headers(include_dir):
    root = include_dir / "ocireg"
    return sorted(p.relative_to(include_dir).as_posix() for p in root.rglob("*.h"))


def problems_of(include_dir, header):
    text = (include_dir / header).read_text(encoding="utf-8")
    problems = []
    if not PRAGMA_ONCE.search(text):
        problems.append(f"{header}: no #pragma once")
    for number, line in enumerate(text.splitlines(), start=1):
        match = INCLUDE.match(line)
        if not match:
            continue
        kind, name = match.groups()
        where = f"{header}:{number}"
        if kind == "<" and name not in STD_HEADERS:
            problems.append(f"{where}: <{name}> is not a C++ standard header")
        elif kind == '"' and not name.startswith("ocireg/"):
            problems.append(f'{where}: "{name}" is not an ocireg/ header')
        elif kind == '"' and not (include_dir / name).is_file():
            problems.append(f'{where}: "{name}" does not exist under include/')
    return problems


def main(argv):
    if len(argv) != 3 or argv[1] not in ("list", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    include_dir = pathlib.Path(argv[2])
    headers = public_headers(include_dir)
    if not headers:
        print(f"no public headers under {include_dir}/ocireg", file=sys.stderr)
        return 1
    if argv[1] == "list":
        print("\n".join(headers))
        return 0
    problems = [p for header in headers for p in problems_of(include_dir, header)]
    for problem in problems:
        print(problem)
    print(f"checked {len(headers)} public headers: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
