// swift-tools-version:6.0
// Outbound: an outgoing web-service dispatcher. No Swift package dependencies: the binary
// uses Glibc, the standard library's Synchronization, libcurl, OpenSSL's libcrypto and zlib (not
// Foundation, which would cost every process about 5 ms of start-up); the tests use Foundation.
// libcurl is opened with dlopen when first called (Sources/COutbound/CurlLoader.c), so commands
// that send nothing start without it and its thirty-odd libraries; its headers are needed to build.
import PackageDescription

let package = Package(
    name: "Outbound",
    products: [
        .executable(name: "outbound", targets: ["outbound"]),
    ],
    targets: [
        // The only C in the project: typed wrappers around libcurl's variadic calls, libcurl's
        // loader, SHA-256 and JWS signing from libcrypto, gzip reading from zlib (rotated audit
        // logs), and the few Linux calls Glibc does not export to Swift.
        .target(
            name: "COutbound",
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("z"), .linkedLibrary("dl")]
        ),
        // Everything the dispatcher does, as a library so tests can reach it.
        .target(
            name: "OutboundCore",
            dependencies: ["COutbound"]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "outbound",
            dependencies: ["OutboundCore"]
        ),
        // Shared test fixtures: a loopback HTTP server, spool builders, a process runner.
        .target(
            name: "OutboundTestSupport",
            path: "Tests/OutboundTestSupport"
        ),
        .testTarget(
            name: "OutboundCoreTests",
            dependencies: ["OutboundCore", "OutboundTestSupport"]
        ),
        .testTarget(
            name: "OutboundIntegrationTests",
            dependencies: ["outbound", "OutboundTestSupport"]
        ),
    ]
)
