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

Release review of 2026-12-07 (issue 24 item 3): the Gradle distribution pinned by SHA-256 and
the wrapper jar the one Gradle ships; Face ID's usage text (ja/en); the Secure Enclave
decrypt off the main thread; only a gone key or a changed biometry set removing biometric
unlock; VoiceOver/TalkBack reading the next code digit by digit and never a raw `%1$ld`; the
PIN field not offered SMS codes; the scanner's failures and a refused camera said. And the
privacy manifest: every required-reason API category the Rust library links (its undefined
symbols, `nm -u`) or the Swift sources use is declared with a reason. No iOS target exists
here, so the host-built libsofttoken_ffi stands in for the iOS one (the same Rust code; Linux
names such as `statx`/`fstat64` map to Apple's `stat`/`fstat`); on a Mac run
`--privacy-symbols` on the iOS static library itself (ios/build-xcframework.sh does).

Usage: scripts/release-checks.py [repo root] | --check-so FILE... | --privacy-symbols LIB...
"""
import hashlib
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


# The SHA-256 Gradle publishes for its distributions (https://gradle.org/release-checksums/),
# for the version the wrapper pins; a new pin adds its line here.
GRADLE_DISTRIBUTION_SHA256 = {
    "gradle-8.14.1-bin.zip": "845952a9d6afa783db70bb3b0effaae45ae5542ca2bb7929619e8af49cb634cf",
}
# The wrapper jar of Gradle 8.14.x (gradle/gradle `gradle/wrapper/gradle-wrapper.jar`; Gradle's
# own checksum list names it), so a changed jar is seen.
GRADLE_WRAPPER_JAR_SHA256 = "7d3a4ac4de1c32b59bc6a4eb8ecb8e612ccd0cf1ae1e99f66902da64df296172"

# Apple's required-reason API categories, by the C symbols that reach them, with the reasons
# this app may give (https://developer.apple.com/documentation/bundleresources/privacy_manifest_files/describing_use_of_required_reason_api).
# The Linux/glibc names are the host stand-ins for the Darwin calls (std's fs::read and
# metadata use statx/fstat64 on Linux, fstat/stat on iOS).
REQUIRED_REASON_SYMBOLS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {
        "stat", "fstat", "lstat", "fstatat", "getattrlist", "getattrlistbulk", "fgetattrlist",
        "getattrlistat", "statx", "stat64", "fstat64", "lstat64", "fstatat64", "__xstat",
        "__fxstat", "__lxstat", "__fxstatat", "__xstat64", "__fxstat64", "__lxstat64", "__fxstatat64",
    },
    "NSPrivacyAccessedAPICategorySystemBootTime": {
        "mach_absolute_time", "mach_continuous_time", "mach_approximate_time",
        "mach_continuous_approximate_time",
    },
    "NSPrivacyAccessedAPICategoryDiskSpace": {
        "statfs", "fstatfs", "statvfs", "fstatvfs", "statfs64", "fstatfs64", "statvfs64", "fstatvfs64",
    },
    "NSPrivacyAccessedAPICategoryUserDefaults": {"OBJC_CLASS_$_NSUserDefaults", "CFPreferencesCopyAppValue"},
}
# The same categories as the Swift sources would reach them.
REQUIRED_REASON_SWIFT = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": r"\b(creationDate|modificationDate|fileModificationDate|"
                                                 r"contentModificationDateKey|creationDateKey|attributesOfItem)\b",
    "NSPrivacyAccessedAPICategorySystemBootTime": r"\b(systemUptime|mach_absolute_time)\b",
    "NSPrivacyAccessedAPICategoryDiskSpace": r"\b(volumeAvailableCapacity\w*|systemFreeSize|systemSize|statfs)\b",
    "NSPrivacyAccessedAPICategoryUserDefaults": r"\b(UserDefaults|AppStorage)\b",
    "NSPrivacyAccessedAPICategoryActiveKeyboards": r"\bactiveInputModes\b",
}
# Reasons that fit this app (a vault in its own container, timing inside the app, its own settings).
ALLOWED_REASONS = {
    "NSPrivacyAccessedAPICategoryFileTimestamp": {"C617.1", "0A2A.1", "3B52.1", "DDA9.1"},
    "NSPrivacyAccessedAPICategorySystemBootTime": {"35F9.1", "8FFB.1", "3D61.1"},
    "NSPrivacyAccessedAPICategoryDiskSpace": {"E174.1", "85F4.1", "7D9E.1", "B728.1"},
    "NSPrivacyAccessedAPICategoryUserDefaults": {"CA92.1", "1C8F.1", "C56D.1", "AC6B.1"},
    "NSPrivacyAccessedAPICategoryActiveKeyboards": {"3EC4.1", "54BD.1"},
}


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


# --- the release review of 2026-12-07 ---------------------------------------------------------

def symbol_name(raw):
    """A symbol as nm prints it, without glibc's `@VERSION` and Darwin's `$INODE64`-style suffixes."""
    name = raw.split("@")[0]
    return name if "OBJC_CLASS_$_" in name else name.split("$")[0]


def linked_categories(symbols):
    """{category: sorted symbols} of the required-reason categories the symbols reach."""
    found = {}
    for raw in symbols:
        name = symbol_name(raw)
        for category, names in REQUIRED_REASON_SYMBOLS.items():
            if name in names or (name.startswith("_") and name[1:] in names):
                found.setdefault(category, set()).add(name)
    return {k: sorted(v) for k, v in found.items()}


def undefined_symbols(lib):
    """The undefined symbols of a static (.a) or shared (.so/.dylib) library, from `nm -u`."""
    nm = shutil.which("nm")
    if nm is None:
        raise OSError("no nm to list the library's symbols")
    # An ELF .so keeps what it imports in the dynamic table; a static archive lists per member.
    args = [nm, "-u"] + (["-D"] if str(lib).endswith(".so") else []) + [str(lib)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip() and not line.endswith(":")}


def declared_reasons(manifest):
    """{category: reasons} of a privacy manifest's NSPrivacyAccessedAPITypes."""
    return {t.get("NSPrivacyAccessedAPIType"): list(t.get("NSPrivacyAccessedAPITypeReasons") or [])
            for t in manifest.get("NSPrivacyAccessedAPITypes", [])}


def undeclared(needed, manifest):
    """(category, why) for each needed category the manifest lacks or gives no fitting reason for."""
    declared = declared_reasons(manifest)
    missing = []
    for category, because in sorted(needed.items()):
        reasons = declared.get(category)
        if not reasons:
            missing.append((category, f"used by {', '.join(because)}, not declared"))
        elif not set(reasons) <= ALLOWED_REASONS.get(category, set()):
            missing.append((category, f"reasons {reasons} are not among {sorted(ALLOWED_REASONS.get(category, []))}"))
    return missing


def host_ffi_library(root):
    """The newest host-built libsofttoken_ffi (static first), building the debug one if none is."""
    found = [p for p in (root / "target/release/libsofttoken_ffi.a", root / "target/debug/libsofttoken_ffi.a",
                         root / "target/release/libsofttoken_ffi.so", root / "target/debug/libsofttoken_ffi.so")
             if p.is_file()]
    if not found:
        subprocess.run(["cargo", "build", "-q", "-p", "softtoken-ffi"], cwd=root, check=True)
        found = [root / "target/debug/libsofttoken_ffi.a"]
    return max(found, key=lambda p: p.stat().st_mtime)


def privacy_manifest(root, c):
    privacy = root / "ios/App/Resources/PrivacyInfo.xcprivacy"
    try:
        manifest = plistlib.loads(privacy.read_bytes())
    except (OSError, plistlib.InvalidFileException) as e:
        c.check(False, "ios: privacy manifest covers the Rust library", str(e))
        return
    try:
        lib = host_ffi_library(root)
        needed = linked_categories(undefined_symbols(lib))
    except (OSError, subprocess.CalledProcessError) as e:
        c.check(False, "ios: privacy manifest covers the Rust library's required-reason APIs", str(e))
        return
    missing = undeclared(needed, manifest)
    c.check(not missing, f"ios: privacy manifest declares what {lib.relative_to(root)} links "
            f"({', '.join(k.removeprefix('NSPrivacyAccessedAPICategory') for k in needed) or 'nothing'})",
            "; ".join(f"{k}: {why}" for k, why in missing))
    swift = {p: p.read_text() for p in sorted((root / "ios").rglob("*.swift"))}
    used = {}
    for category, pattern in REQUIRED_REASON_SWIFT.items():
        for path, text in swift.items():
            for m in re.finditer(pattern, text):
                used.setdefault(category, []).append(f"{path.relative_to(root)}:{text.count(chr(10), 0, m.start()) + 1}")
    missing = undeclared(used, manifest)
    c.check(not missing, "ios: privacy manifest declares what the Swift sources use",
            "; ".join(f"{k}: {why}" for k, why in missing))


def privacy_checker_self_test(c):
    """The symbol mapping and the manifest judgement on made-up input, so both can fail."""
    needed = linked_categories({"fstat64@GLIBC_2.33", "_fstat$INODE64", "malloc", "clock_gettime"})
    c.check(needed == {"NSPrivacyAccessedAPICategoryFileTimestamp": ["_fstat", "fstat64"]},
            "privacy checker: fstat (glibc and Darwin spellings) is a file-timestamp API, malloc none", str(needed))
    empty = {"NSPrivacyAccessedAPITypes": []}
    good = {"NSPrivacyAccessedAPITypes": [{"NSPrivacyAccessedAPIType": "NSPrivacyAccessedAPICategoryFileTimestamp",
                                           "NSPrivacyAccessedAPITypeReasons": ["C617.1"]}]}
    c.check(len(undeclared(needed, empty)) == 1 and undeclared(needed, good) == [],
            "privacy checker: an empty manifest fails, a declared reason passes")


def function_body(text, signature):
    """The text of the brace block that follows `signature` (first match), or ''."""
    start = text.find(signature)
    if start < 0:
        return ""
    open_at = text.find("{", start)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at:i + 1]
    return text[open_at:]


def biometric_verdicts(glue):
    """Faults in how PlatformGlue.swift decides that biometric unlock is gone for good."""
    faults = []
    unlock = function_body(glue, "func unlock(reason: String)")
    if not unlock:
        return ["no `func unlock(reason: String)`"]
    if ".invalidated" in unlock:
        faults.append("unlock(reason:) returns .invalidated itself: only outcome(code:keyGone:biometryChanged:) may")
    outcome = function_body(glue, "static func outcome(code: Int, keyGone: Bool, biometryChanged: Bool)")
    if not outcome:
        return faults + ["no outcome(code:keyGone:biometryChanged:), the one place that decides"]
    lines = [line for line in outcome.splitlines() if ".invalidated" in line]
    if len(lines) != 1 or "keyGone || biometryChanged" not in lines[0]:
        faults.append(f"outcome() returns .invalidated other than for `keyGone || biometryChanged`: {lines}")
    if "return .failed" not in outcome:
        faults.append("outcome() has no .failed for the other errors")
    if "keyGone: status == errSecItemNotFound" not in unlock:
        faults.append("a missing key is not told apart from a cancelled or refused lookup (errSecItemNotFound)")
    return faults


def biometric_checker_self_test(c):
    before = """    func unlock(reason: String) -> BiometricResult {
        guard let privateKey = key(prompt: reason) else { return .invalidated }
        return code == LAError.biometryLockout.rawValue ? .failed : .invalidated
    }
"""
    c.check(len(biometric_verdicts(before)) >= 2, "biometric checker: a cancelled prompt that deletes biometric unlock fails")


def release_review(root, c):
    """The findings of the apps' release review (issue 24 item 3)."""
    # Gradle: the distribution by checksum, the wrapper jar the known one.
    props = (root / "android/gradle/wrapper/gradle-wrapper.properties").read_text()
    url = re.search(r"^distributionUrl=.*/(gradle-[\w.-]+\.zip)\s*$", props, re.M)
    pinned = re.search(r"^distributionSha256Sum=([0-9a-f]{64})\s*$", props, re.M)
    want = GRADLE_DISTRIBUTION_SHA256.get(url.group(1)) if url else None
    c.check(pinned is not None and want is not None and pinned.group(1) == want,
            "android: gradle-wrapper.properties pins the distribution's SHA-256 (distributionSha256Sum)",
            f"want distributionSha256Sum={want} for {url.group(1) if url else 'no distributionUrl'}")
    jar = root / "android/gradle/wrapper/gradle-wrapper.jar"
    digest = hashlib.sha256(jar.read_bytes()).hexdigest() if jar.is_file() else None
    readme = (root / "android/README.md").read_text()
    c.check(digest == GRADLE_WRAPPER_JAR_SHA256 and GRADLE_WRAPPER_JAR_SHA256 in readme,
            "android: the wrapper jar is Gradle 8.14's, and android/README.md says where it came from",
            f"sha256 {digest}")

    glue = (root / "android/app/src/main/kotlin/jp/softtoken/app/PlatformGlue.kt").read_text()
    c.check(re.search(r"primaryClipDescription\s*\?:\s*return null", glue) is not None,
            "android: a clipboard hidden in the background is 'cannot tell' (null), so the 60 s clear still runs")

    swift_dir = root / "ios/App/Sources"
    swift = {p.name: p.read_text() for p in sorted(swift_dir.glob("*.swift"))}

    # Face ID's usage text, in the Info.plist and in both languages.
    project = (root / "ios/project.yml").read_text()
    langs = {lang: (root / f"ios/App/Resources/{lang}.lproj/InfoPlist.strings").read_text() for lang in ("ja", "en")}
    missing = [where for where, text in [("project.yml", project)] + list(langs.items())
               if not re.search(r'"?NSFaceIDUsageDescription"?\s*[:=]\s*\S', text)]
    c.check(not missing, "ios: NSFaceIDUsageDescription in the Info.plist and in ja/en InfoPlist.strings",
            f"missing in {missing}")

    # The Secure Enclave decrypt (a blocking Face ID prompt) never on the main thread.
    on_main = []
    for name, text in swift.items():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if re.search(r"\.unlock\(reason:", line) and "func unlock" not in line:
                before = "\n".join(lines[max(0, i - 4):i])
                if not re.search(r"DispatchQueue\.global\(|Task\.detached|\bqueue\.async", before):
                    on_main.append(f"{name}:{i + 1}")
    c.check(not on_main, "ios: the biometric decrypt runs off the main thread", ", ".join(on_main))

    faults = biometric_verdicts(swift.get("PlatformGlue.swift", ""))
    c.check(not faults, "ios: only a gone key or a changed biometry set removes biometric unlock", "; ".join(faults))

    # Screen readers: codes digit by digit, announcements formatted.
    strings = (root / "ios/App/Resources/ja.lproj/Localizable.strings").read_text()
    raw = []
    for name, text in swift.items():
        for m in re.finditer(r"UIAccessibility\.post\([^\n]*?(?:NSLocalizedString|\bL)\(\"(\w+)\"(,\s*comment:[^)]*)?\)", text):
            entry = re.search(rf'^"{m.group(1)}" = "(.*)";$', strings, re.M)
            if entry and "%" in entry.group(1):
                raw.append(f"{name}: {m.group(1)}")
    c.check(not raw, "ios: VoiceOver announcements are formatted (no raw %1$ld read out)", ", ".join(raw))
    unspoken = []
    for path in sorted((root / "android/app/src").rglob("*.kt")) + sorted(swift_dir.glob("*.swift")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "next.grouped()" in line:
                near = "\n".join(lines[max(0, i - 3):i + 5])
                if "next.spoken()" not in near:
                    unspoken.append(f"{path.relative_to(root)}:{i + 1}")
    c.check(not unspoken, "apps: the next code is read digit by digit (next.spoken())", ", ".join(unspoken))
    # Every text a screen reader gets for a code or serial is the core's spoken form; a shell
    # that splits digits itself would drift from it (issue 24: the shells only render).
    own = [f"{p.relative_to(root)}" for p in sorted((root / "android/app/src").rglob("*.kt")) + sorted((root / "ios").rglob("*.swift"))
           if re.search(r"fun spokenSymbols|CodeDisplay\.spoken|func spoken\(", p.read_text())]
    c.check(not own, "apps: spoken forms of codes and serials come from the core", ", ".join(own))
    otc = [f"{p.relative_to(root)}" for p in sorted((root / "ios").rglob("*.swift")) if ".oneTimeCode" in p.read_text()]
    c.check(not otc, "ios: no field is .oneTimeCode (the PIN pad is not offered SMS codes)", ", ".join(otc))

    # The scanner: failures said (Android), a refused camera handled (iOS).
    scanner = (root / "android/app/src/main/kotlin/jp/softtoken/app/QrScanner.kt").read_text()
    failure = re.search(r"addOnFailureListener\s*\{([^}]*)\}", scanner)
    c.check(failure is not None and "onFailed" in failure.group(1) and "onCancelled" not in failure.group(1),
            "android: a scanner failure is reported (onFailed), not taken for a cancel")
    ios_scan = swift.get("AddTokenViews.swift", "")
    c.check("AVCaptureDevice.authorizationStatus(for: .video)" in ios_scan and "scanFailed(cameraDenied: true)" in ios_scan,
            "ios: a refused camera is handled (authorizationStatus, scanFailed(cameraDenied: true))")
    # The messages are the core's since the app model moved to Rust (issue 24): its table
    # (kept equal to strings.xml and Localizable.strings by cargo test) has the scanner's.
    messages = (root / "crates/core/src/app/messages_table.rs").read_text()
    c.check('"error_camera_denied"' in messages and '"error_scanner_failed"' in messages,
            "apps: the scanner's messages are keys of the core's message table (crates/core/src/app)")


def main(argv):
    if argv[:1] == ["--check-so"]:
        bad = [p for p in argv[1:] if not aligned_16k(p)]
        for p in argv[1:]:
            print(f"{'ok  ' if p not in bad else 'FAIL'} {p}: LOAD p_align {load_alignments(p)}")
        return 1 if bad or not argv[1:] else 0
    if argv[:1] == ["--privacy-symbols"]:
        root = Path(__file__).resolve().parent.parent
        manifest = plistlib.loads((root / "ios/App/Resources/PrivacyInfo.xcprivacy").read_bytes())
        failed = False
        for lib in argv[1:]:
            needed = linked_categories(undefined_symbols(lib))
            missing = undeclared(needed, manifest)
            failed = failed or bool(missing)
            print(f"{'FAIL' if missing else 'ok  '} {lib}: links {needed or 'no required-reason API'}"
                  + "".join(f"; {k}: {why}" for k, why in missing))
        return 1 if failed or not argv[1:] else 0
    root = Path(argv[0] if argv else Path(__file__).resolve().parent.parent)
    c = Checks()
    alignment_checker_self_test(c)
    guard_checker_self_test(c)
    privacy_checker_self_test(c)
    biometric_checker_self_test(c)
    android(root, c)
    ios(root, c)
    privacy_manifest(root, c)
    release_review(root, c)
    print(f"release checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
