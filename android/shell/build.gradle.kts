// The app's flows in pure Kotlin (no Android imports), compiled with the generated bindings
// so the Android app and the JVM tests share them.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

val repoRoot: File = rootDir.parentFile

kotlin {
    jvmToolchain(17)
    // The real softtoken-server harness, shared with the binding tests.
    sourceSets["test"].kotlin.srcDir(repoRoot.resolve("bindings/kotlin/testserver"))
}

dependencies {
    // The app brings JNA as an Android AAR; the JVM tests bring the jar.
    compileOnly(libs.jna)
    // Compiled against the JVM flavour of the bindings without shipping them: the app brings
    // the Android flavour (uniffi.toml `android = true`), the tests the JVM one.
    compileOnly(project(":bindings-jvm"))
    testImplementation(project(":bindings-jvm"))
    testImplementation(libs.jna)
    testImplementation(kotlin("test"))
    testImplementation(libs.junit.jupiter)
}


// The same tests android/test-shell.sh runs: the real library and a real server.
tasks.test {
    dependsOn(rootProject.tasks.named("hostRustBuild"))
    useJUnitPlatform()
    systemProperty("jna.library.path", repoRoot.resolve("target/release").path)
    environment("SOFTTOKEN_SERVER_BIN", repoRoot.resolve("target/debug/softtoken-server").path)
    environment("SOFTTOKEN_REPO", repoRoot.path)
}
