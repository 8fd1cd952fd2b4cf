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
    compileSdk = 35

    defaultConfig {
        applicationId = "jp.softtoken.app"
        minSdk = 26
        targetSdk = 35
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

tasks.named("preBuild") { dependsOn(cargoNdk) }

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
    debugImplementation(libs.compose.ui.tooling)
}
