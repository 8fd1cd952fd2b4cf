// The JVM flavour of the generated Kotlin bindings (bindings/generate.sh, `android = false`):
// what the shell compiles against and its JVM tests run with. The app ships the Android
// flavour instead (app/build.gradle.kts).
plugins {
    alias(libs.plugins.kotlin.jvm)
}

val repoRoot: File = rootDir.parentFile

kotlin {
    jvmToolchain(17)
    sourceSets["main"].kotlin.srcDir(repoRoot.resolve("bindings/generated/kotlin"))
}

dependencies {
    compileOnly(libs.jna)
}

tasks.named("compileKotlin") { dependsOn(rootProject.tasks.named("generateBindings")) }
