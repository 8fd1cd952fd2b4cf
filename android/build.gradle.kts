// Plugins are declared once here and applied per module; the tasks that reach into the Rust
// workspace (one directory up) live here too.
plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.kotlin.android) apply false
    alias(libs.plugins.kotlin.jvm) apply false
    alias(libs.plugins.kotlin.compose) apply false
}

/** The repository root: the Rust workspace the native library and bindings come from. */
val repoRoot: File = rootDir.parentFile

/**
 * Generates the Kotlin bindings (package jp.softtoken.core) into bindings/generated/kotlin with
 * the repository's generator (bindings/generate.sh: pinned uniffi-bindgen, library mode).
 * Generated code is never committed.
 */
val generateBindings by tasks.registering(Exec::class) {
    group = "softtoken"
    description = "Generates the Kotlin bindings of crates/ffi."
    workingDir = repoRoot
    commandLine("bash", "bindings/generate.sh")
    inputs.dir(repoRoot.resolve("crates"))
    outputs.dir(repoRoot.resolve("bindings/generated"))
}

/** The host builds the shell's JVM tests load: the release library and softtoken-server (debug). */
val hostRustBuild by tasks.registering(Exec::class) {
    group = "softtoken"
    description = "Builds the release library and softtoken-server for the host."
    workingDir = repoRoot
    commandLine("bash", "-c", "cargo build -q --release -p softtoken-ffi && cargo build -q -p softtoken-server")
    inputs.dir(repoRoot.resolve("crates"))
    inputs.dir(repoRoot.resolve("server"))
    outputs.upToDateWhen { false } // cargo knows best whether anything changed
}
