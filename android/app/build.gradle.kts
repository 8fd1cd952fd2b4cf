// The Android app: Compose screens over the `shell` module, the Keystore key wrapper, QR
// scanning, and the Rust library built per ABI by cargo-ndk.
plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

val repoRoot: File = rootDir.parentFile

/** The ABIs shipped: phones (arm64-v8a, armeabi-v7a) and the emulator (x86_64). */
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")

android {
    namespace = "jp.softtoken.app"
    // API 36: what Google Play requires of new apps and updates; AGP 8.10 supports it.
    compileSdk = 36
    // Pinned so every build machine links the Rust library with the same NDK (r27c); the
    // 16 KB page alignment comes from .cargo/config.toml, checked by scripts/release-checks.py.
    ndkVersion = "27.2.12479018"

    defaultConfig {
        applicationId = "jp.softtoken.app"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += abis }
        // Where hand-typed activations and registration mode go; a bank's build sets these.
        buildConfigField("String", "ACTIVATION_SERVER", "\"${providers.gradleProperty("softtoken.activationServer").getOrElse("")}\"")
        buildConfigField("String", "REGISTRATION_SERVER", "\"${providers.gradleProperty("softtoken.registrationServer").getOrElse("")}\"")
        buildConfigField("String", "REGISTRATION_SERVICE", "\"${providers.gradleProperty("softtoken.registrationService").getOrElse("")}\"")
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    kotlinOptions { jvmTarget = "17" }

    sourceSets["main"].jniLibs.srcDir(rustJniLibs)
    // The Android flavour of the generated bindings (uniffi.toml `android = true`); the shell
    // is compiled against the JVM flavour (same API) and does not ship it.
    sourceSets["main"].java.srcDir(repoRoot.resolve("bindings/generated/kotlin-android"))
    // The bank directory (banks.json), shared with the iOS bundle; a bank's build points
    // -Psofttoken.banksDir at its own.
    sourceSets["main"].assets.srcDir(providers.gradleProperty("softtoken.banksDir").getOrElse(repoRoot.resolve("mobile/banks").path))
}

/**
 * Builds libsofttoken_ffi.so for every ABI with cargo-ndk (`cargo install cargo-ndk`, and
 * `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`).
 * Release profile: stripped, size-optimised by the workspace profile.
 */
val cargoNdk by tasks.registering(Exec::class) {
    group = "softtoken"
    description = "Builds the Rust core for ${abis.joinToString()} with cargo-ndk."
    workingDir = repoRoot
    val targets = abis.flatMap { listOf("-t", it) }
    commandLine(
        listOf("cargo", "ndk") + targets +
            listOf("--platform", "26", "-o", rustJniLibs.get().asFile.path, "build", "--release", "-p", "softtoken-ffi"),
    )
    inputs.dir(repoRoot.resolve("crates"))
    inputs.file(repoRoot.resolve("Cargo.lock"))
    outputs.dir(rustJniLibs)
}

tasks.named("preBuild") { dependsOn(cargoNdk, rootProject.tasks.named("generateBindings")) }

dependencies {
    implementation(project(":shell"))
    implementation("${libs.jna.get()}@aar")
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.material3)
    implementation(libs.compose.ui)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.activity.compose)
    implementation(libs.lifecycle.viewmodel.compose)
    implementation(libs.lifecycle.process)
    implementation(libs.code.scanner)
    implementation(libs.biometric)
    debugImplementation(libs.compose.ui.tooling)
}
