#!/usr/bin/env python3
"""Every dependency() of meson.build falls back to a wrap in subprojects/ or is named as
system-only in subprojects/README.md; every wrap is complete (a source with its sha256, a
WrapDB patch with its sha256) and provides what meson.build asks for."""
import configparser
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
problems = []

wanted = set(re.findall(r"dependency\('([^']+)'", (root / "meson.build").read_text()))
readme = (root / "subprojects" / "README.md").read_text()
marker = re.search(r"<!-- system-only: ([^>]*) -->", readme)
system_only = set(marker.group(1).split()) if marker else set()
if not marker:
    problems.append("subprojects/README.md has no <!-- system-only: ... --> list")

provided = {}
sha256 = re.compile(r"^[0-9a-f]{64}$")
for wrap in sorted((root / "subprojects").glob("*.wrap")):
    config = configparser.ConfigParser(interpolation=None)
    config.read(wrap)
    if "wrap-file" not in config:
        problems.append(f"{wrap.name}: not a [wrap-file] (a download pinned by its hash)")
        continue
    section = config["wrap-file"]
    for key in ("directory", "source_url", "source_filename", "source_hash"):
        if not section.get(key):
            problems.append(f"{wrap.name}: no {key}")
    for prefix in ("source", "patch"):
        if section.get(prefix + "_url") and not sha256.match(section.get(prefix + "_hash", "")):
            problems.append(f"{wrap.name}: {prefix}_url without a sha256 {prefix}_hash")
    if not config.has_section("provide"):
        problems.append(f"{wrap.name}: no [provide] section")
        continue
    names = set()
    for key, value in config["provide"].items():
        names.update(n.strip() for n in value.split(",")) if key == "dependency_names" else names.add(key)
    for name in names:
        provided[name] = wrap.name
    if not names & wanted:
        problems.append(f"{wrap.name}: provides {sorted(names)}, none of which meson.build uses")
    if wrap.name not in readme:
        problems.append(f"{wrap.name}: not listed in subprojects/README.md")

for name in sorted(wanted):
    if name in provided and name in system_only:
        problems.append(f"{name}: both provided by {provided[name]} and listed as system-only")
    elif name not in provided and name not in system_only:
        problems.append(f"{name}: neither a wrap in subprojects/ nor listed as system-only")
for name in sorted(system_only - wanted):
    problems.append(f"{name}: listed as system-only but meson.build does not use it")

for problem in problems:
    print(problem)
print(f"{len(wanted)} dependencies: {len(wanted & set(provided))} with a wrap, "
      f"{len(wanted & system_only)} from the system only; {len(problems)} problems")
sys.exit(1 if problems else 0)
