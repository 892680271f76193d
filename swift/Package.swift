// swift-tools-version:5.9
//
// HogFlags: PostHog feature flags evaluated locally by the hogflags Rust core, through UniFFI.
//
// The Rust library (libhogflags_uniffi) is linked from the workspace's cargo target directory: build it
// first with `cargo build --release -p hogflags-uniffi` at the repository root. Set HOGFLAGS_LIB_DIR to
// link one from elsewhere (an absolute path to the directory holding libhogflags_uniffi.{so,dylib}).
import PackageDescription

let rustLibDir = Context.environment["HOGFLAGS_LIB_DIR"] ?? (Context.packageDirectory + "/../target/release")

let package = Package(
    name: "HogFlags",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "HogFlags", targets: ["HogFlags"]),
    ],
    targets: [
        // The C declarations of the FFI (generated header + module map that links libhogflags_uniffi).
        .systemLibrary(name: "HogFlagsFFI", path: "Sources/HogFlagsFFI"),
        // Generated bindings (Sources/HogFlags/Generated) and the Swift layer.
        .target(
            name: "HogFlags",
            dependencies: ["HogFlagsFFI"],
            path: "Sources/HogFlags",
            linkerSettings: [.unsafeFlags(["-L", rustLibDir, "-Xlinker", "-rpath", "-Xlinker", rustLibDir])]
        ),
        .executableTarget(name: "HogFlagsBench", dependencies: ["HogFlags"], path: "Sources/HogFlagsBench"),
        .testTarget(name: "HogFlagsTests", dependencies: ["HogFlags"], path: "Tests/HogFlagsTests"),
    ]
)
