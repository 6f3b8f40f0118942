// swift-tools-version:6.0
// Outbound: an outgoing web-service dispatcher. No Swift package dependencies: the binary
// uses Glibc, the standard library's Synchronization, libcurl, OpenSSL's libcrypto and zlib (not
// Foundation, which would cost every process about 5 ms of start-up); the tests use Foundation.
import PackageDescription

let package = Package(
    name: "Outbound",
    products: [
        .executable(name: "outbound", targets: ["outbound"]),
    ],
    targets: [
        // The only C in the project: typed wrappers around libcurl's variadic calls,
        // SHA-256 from libcrypto, gzip reading from zlib (rotated audit logs), and the few
        // Linux calls Glibc does not export to Swift.
        .target(
            name: "COutbound",
            linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("crypto"), .linkedLibrary("z")]
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
