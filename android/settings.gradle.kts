// softtoken Android: a pure-Kotlin `shell` (flows, tested on the JVM against the real Rust
// library) and the Compose `app` that draws it.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "softtoken-android"
include(":bindings-jvm", ":shell", ":app")
