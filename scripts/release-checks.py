#!/usr/bin/env python3
"""Static checks of the apps' store-release settings, for a machine without the Android SDK
or Xcode (issue 16 items 8 and 9). Run by scripts/test.sh; prints one line per check and
`release checks: N passed, N failed`, and exits non-zero on any failure.

Android: compileSdk/targetSdk 36 with an AGP that supports it (>= 8.9.1) and the Gradle it
needs, JNA >= 5.17, a pinned ndkVersion, the Gradle wrapper, 16 KB page alignment flags for
every Android target in .cargo/config.toml, `android = true` in uniffi.toml, and no API 28+
call outside a `Build.VERSION.SDK_INT >=` guard (minSdk is 26: such a call crashes Android 8).
The ELF alignment checker reads a `.so`'s LOAD segments itself (no readelf needed); it is
proven on two host libraries linked with 16 KB and 4 KB pages (so it can fail), and run on
every cross-built Android libsofttoken_ffi.so found (none where the Android rustup targets
are not installed, as on CI here: said so in the output).

iOS: the vault directory excluded from backup, an AppIcon asset catalog with a 1024x1024
PNG, PrivacyInfo.xcprivacy, iPhone-only (or all four iPad orientations), and Security linked
explicitly by SoftTokenKit.

Usage: scripts/release-checks.py [repo root] | --check-so FILE...
"""
import json
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE_16K = 16384

# API level of each Android call or constant the app might use that is newer than minSdk 26.
NEW_APIS = {
    "setIsStrongBoxBacked": 28,
    "StrongBoxUnavailableException": 28,
    "FEATURE_STRONGBOX_KEYSTORE": 28,
    "clearPrimaryClip": 28,
    "setUnlockedDeviceRequired": 28,
    "setUserAuthenticationParameters": 30,
    "AUTH_BIOMETRIC_STRONG": 30,
    "EXTRA_IS_SENSITIVE": 33,
}
VERSION_CODES = {"O": 26, "O_MR1": 27, "P": 28, "Q": 29, "R": 30, "S": 31, "S_V2": 32,
                 "TIRAMISU": 33, "UPSIDE_DOWN_CAKE": 34, "VANILLA_ICE_CREAM": 35, "BAKLAVA": 36}
GUARD = re.compile(r"SDK_INT\s*>=\s*(?:Build\.)?(?:VERSION_CODES\.(\w+)|(\d+))")


def version(text):
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


# --- ELF ------------------------------------------------------------------------------------

def load_alignments(path):
    """The p_align of every PT_LOAD segment of an ELF file (32 or 64 bit, either endian)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        phoff, = struct.unpack_from(end + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x36)
    else:
        phoff, = struct.unpack_from(end + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 0x2A)
    aligns = []
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, = struct.unpack_from(end + "I", data, off)
        if p_type != 1:  # PT_LOAD
            continue
        p_align, = struct.unpack_from(end + ("Q" if is64 else "I"), data, off + (0x30 if is64 else 0x1C))
        aligns.append(p_align)
    if not aligns:
        raise ValueError(f"{path}: no LOAD segment")
    return aligns


def aligned_16k(path):
    return all(a >= PAGE_16K and a % PAGE_16K == 0 for a in load_alignments(path))


# --- the checks -----------------------------------------------------------------------------

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, why=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + why if why else ''}")


def unguarded_calls(text, min_sdk):
    """(line, symbol, api) of each use of a NEW_APIS symbol above min_sdk with no enclosing guard."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("import ", "//", "*", "/*")):
            continue
        for symbol, api in NEW_APIS.items():
            if api <= min_sdk or not re.search(rf"\b{symbol}\b", line):
                continue
            if not guarded(lines, i, api):
                found.append((i + 1, symbol, api))
    return found


def guard_level(line):
    levels = []
    for name, number in GUARD.findall(line):
        levels.append(int(number) if number else VERSION_CODES.get(name, 0))
    return max(levels, default=0)


def guarded(lines, i, api):
    """Whether line i sits in (or on) a block opened under `SDK_INT >= api` or @RequiresApi."""
    if guard_level(lines[i]) >= api:
        return True
    # The same condition over up to three lines: `if (SDK_INT >= P &&\n  uses(SYMBOL))`.
    head = lines[max(0, i - 2): i]
    if head and not any("}" in h or "{" in h for h in head) and guard_level(" ".join(head)) >= api:
        return True
    depth = 0
    for j in range(i - 1, -1, -1):
        line = lines[j]
        depth += line.count("}") - line.count("{")
        if depth < 0:  # line j opens a block that encloses line i
            head = " ".join(lines[max(0, j - 2): j + 1])
            if guard_level(head) >= api:
                return True
            m = re.search(r"@RequiresApi\((?:Build\.)?(?:VERSION_CODES\.(\w+)|(\d+))\)", head)
            if m and (int(m.group(2)) if m.group(2) else VERSION_CODES.get(m.group(1), 0)) >= api:
                return True
            depth = 0
    return False


def android(root, c):
    app_gradle = (root / "android/app/build.gradle.kts").read_text()
    versions = (root / "android/gradle/libs.versions.toml").read_text()
    wrapper_props = (root / "android/gradle/wrapper/gradle-wrapper.properties").read_text()

    def gradle_int(name):
        m = re.search(rf"^\s*{name}\s*=\s*(\d+)", app_gradle, re.M)
        return int(m.group(1)) if m else None

    def toml_version(name):
        m = re.search(rf'^{name}\s*=\s*"([^"]+)"', versions, re.M)
        return m.group(1) if m else ""

    c.check(gradle_int("compileSdk") == 36, "android: compileSdk 36", f"is {gradle_int('compileSdk')}")
    c.check(gradle_int("targetSdk") == 36, "android: targetSdk 36", f"is {gradle_int('targetSdk')}")
    agp = toml_version("agp")
    c.check(version(agp) >= (8, 9, 1), "android: AGP supports API 36 (>= 8.9.1)", f"agp = {agp!r}")
    gradle = re.search(r"gradle-([\d.]+)-bin\.zip", wrapper_props)
    need = (8, 11, 1) if version(agp) >= (8, 9) else (8, 9)
    c.check(gradle is not None and version(gradle.group(1)) >= need,
            f"android: Gradle {'.'.join(map(str, need))}+ for AGP {agp}", wrapper_props.strip())
    jna = toml_version("jna")
    c.check(version(jna) >= (5, 17, 0), "android: JNA >= 5.17 (16 KB aligned libjnidispatch)", f"jna = {jna!r}")
    ndk = re.search(r'^\s*ndkVersion\s*=\s*"(\d+\.\d+\.\d+)"', app_gradle, re.M)
    c.check(ndk is not None, "android: ndkVersion pinned", "no ndkVersion = \"X.Y.Z\" in app/build.gradle.kts")
    for name in ("gradlew", "gradlew.bat", "gradle/wrapper/gradle-wrapper.jar"):
        path = root / "android" / name
        c.check(path.is_file() and path.stat().st_size > 0, f"android: Gradle wrapper {name}",
                "missing: run `gradle wrapper --gradle-version <the properties' version>` in android/ "
                "with any Gradle 8 and commit gradlew, gradlew.bat and gradle/wrapper/gradle-wrapper.jar")
    c.check(bool(re.search(r"^\s*android\s*=\s*true", (root / "crates/ffi/uniffi.toml").read_text(), re.M)),
            "android: uniffi.toml [bindings.kotlin] android = true")

    cargo_config = root / ".cargo/config.toml"
    config = cargo_config.read_text() if cargo_config.is_file() else ""
    for target in ("aarch64-linux-android", "armv7-linux-androideabi", "x86_64-linux-android", "i686-linux-android"):
        section = re.search(rf"^\[target\.{re.escape(target)}\]\n(.*?)(?=^\[|\Z)", config, re.M | re.S)
        c.check(section is not None and "max-page-size=16384" in section.group(1),
                f"android: 16 KB pages for {target} in .cargo/config.toml")

    min_sdk = re.search(r"^\s*minSdk\s*=\s*(\d+)", app_gradle, re.M)
    min_sdk = int(min_sdk.group(1)) if min_sdk else 21
    sources = sorted(p for d in ("android/app/src", "android/shell/src") for p in (root / d).rglob("*.kt"))
    bad = [f"{p.relative_to(root)}:{line} {sym} (API {api})"
           for p in sources for line, sym, api in unguarded_calls(p.read_text(), min_sdk)]
    c.check(not bad, f"android: no unguarded API {min_sdk + 1}+ call ({len(sources)} files, minSdk {min_sdk})",
            "; ".join(bad))

    built = sorted(set(root.glob("target/*-linux-android*/release/libsofttoken_ffi.so"))
                   | set(root.glob("android/app/build/rustJniLibs/*/libsofttoken_ffi.so")))
    if not built:
        print("note android: no cross-built libsofttoken_ffi.so here (the Android rustup targets are not "
              "installed); the alignment of each one built is checked when present")
    for so in built:
        c.check(aligned_16k(so), f"android: {so.relative_to(root)} LOAD segments 16 KB aligned",
                f"p_align {load_alignments(so)}")


def alignment_checker_self_test(c):
    """The checker on two host libraries, so it is shown to pass AND to fail."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        c.check(False, "alignment checker: host C compiler", "no cc to build the test libraries")
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "t.c")
        src.write_text("int softtoken_probe(void) { return 42; }\n")
        results = {}
        for page in (PAGE_16K, 4096):
            out = Path(tmp, f"lib{page}.so")
            subprocess.run([cc, "-shared", "-fPIC", f"-Wl,-z,max-page-size={page}", "-o", str(out), str(src)],
                           check=True)
            results[page] = aligned_16k(out)
        c.check(results[PAGE_16K], "alignment checker: a host .so linked with max-page-size=16384 passes")
        c.check(not results[4096], "alignment checker: a host .so linked with max-page-size=4096 fails")


def guard_checker_self_test(c):
    bad = "fun f() {\n    spec.setIsStrongBoxBacked(true)\n}\n"
    good = ("fun f() {\n    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {\n"
            "        try {\n            spec.setIsStrongBoxBacked(true)\n        } catch (e: StrongBoxUnavailableException) {\n"
            "        }\n    }\n}\n")
    low = "fun f() {\n    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) clip.EXTRA_IS_SENSITIVE\n}\n"
    c.check(unguarded_calls(bad, 26) == [(2, "setIsStrongBoxBacked", 28)], "API guard checker: flags an unguarded call")
    c.check(unguarded_calls(good, 26) == [], "API guard checker: accepts a guarded block")
    c.check(unguarded_calls(low, 26) == [(2, "EXTRA_IS_SENSITIVE", 33)], "API guard checker: a guard too low is no guard")


def ios(root, c):
    sources = "\n".join(p.read_text() for p in sorted((root / "ios").rglob("*.swift")))
    c.check("isExcludedFromBackup = true" in sources, "ios: vault directory excluded from backup (isExcludedFromBackup)")

    icon = root / "ios/App/Resources/Assets.xcassets/AppIcon.appiconset"
    contents = icon / "Contents.json"
    try:
        images = json.loads(contents.read_text())["images"]
        files = [icon / i["filename"] for i in images if "filename" in i]
        sizes = []
        for f in files:
            data = f.read_bytes()
            if data[:8] != b"\x89PNG\r\n\x1a\n":
                raise ValueError(f"{f.name} is not a PNG")
            sizes.append(struct.unpack(">II", data[16:24]))
        c.check((1024, 1024) in sizes, "ios: AppIcon asset catalog with a 1024x1024 PNG", f"sizes {sizes}")
    except (OSError, ValueError, KeyError) as e:
        c.check(False, "ios: AppIcon asset catalog with a 1024x1024 PNG", str(e))

    project = (root / "ios/project.yml").read_text()
    c.check(re.search(r"ASSETCATALOG_COMPILER_APPICON_NAME:\s*AppIcon", project) is not None,
            "ios: project.yml uses the AppIcon set")

    privacy = root / "ios/App/Resources/PrivacyInfo.xcprivacy"
    try:
        manifest = plistlib.loads(privacy.read_bytes())
        ok = (manifest.get("NSPrivacyTracking") is False
              and isinstance(manifest.get("NSPrivacyCollectedDataTypes"), list)
              and all(t.get("NSPrivacyAccessedAPITypeReasons") for t in manifest.get("NSPrivacyAccessedAPITypes", [])))
        c.check(ok, "ios: PrivacyInfo.xcprivacy (no tracking, data types, API reasons)", str(manifest))
    except (OSError, plistlib.InvalidFileException) as e:
        c.check(False, "ios: PrivacyInfo.xcprivacy", str(e))

    iphone_only = re.search(r'TARGETED_DEVICE_FAMILY:\s*"?1"?\s*$', project, re.M) is not None
    ipad = re.search(r"UISupportedInterfaceOrientations~ipad:(.*?)(?=^\s*\S+:\s*$|\Z)", project, re.M | re.S)
    all_ipad = ipad is not None and all(o in ipad.group(1) for o in (
        "UIInterfaceOrientationPortrait", "UIInterfaceOrientationPortraitUpsideDown",
        "UIInterfaceOrientationLandscapeLeft", "UIInterfaceOrientationLandscapeRight"))
    c.check(iphone_only or all_ipad, "ios: iPhone-only, or all four iPad orientations",
            "set TARGETED_DEVICE_FAMILY: \"1\" or list every iPad orientation")

    package = (root / "ios/SoftTokenKit/Package.swift").read_text()
    kit = re.search(r'\.target\(\s*name:\s*"SoftTokenKit".*?\)\s*,\s*(?=\.|\])', package, re.S)
    c.check(kit is not None and '.linkedFramework("Security")' in kit.group(0),
            "ios: SoftTokenKit links Security explicitly")


def main(argv):
    if argv[:1] == ["--check-so"]:
        bad = [p for p in argv[1:] if not aligned_16k(p)]
        for p in argv[1:]:
            print(f"{'ok  ' if p not in bad else 'FAIL'} {p}: LOAD p_align {load_alignments(p)}")
        return 1 if bad or not argv[1:] else 0
    root = Path(argv[0] if argv else Path(__file__).resolve().parent.parent)
    c = Checks()
    alignment_checker_self_test(c)
    guard_checker_self_test(c)
    android(root, c)
    ios(root, c)
    print(f"release checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
