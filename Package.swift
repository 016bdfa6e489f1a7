// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "PartnerSync",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "PartnerSync", targets: ["PartnerSync"]),
    .library(name: "EventLog", targets: ["EventLog"]),
    .library(name: "PostgresEventLog", targets: ["PostgresEventLog"]),
    .executable(name: "partnersync", targets: ["partnersync"]),
    // The HTTP server is a product of its own: `swift run partnersync` never builds its dependencies.
    .executable(name: "partnersync-server", targets: ["partnersync-server"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.0.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CSQLite",
      pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"])]
    ),
    .target(
      name: "EventLog",
      dependencies: [
        "CSQLite",
        .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .systemLibrary(
      name: "CLibPQ",
      pkgConfig: "libpq",
      providers: [.apt(["libpq-dev"])]
    ),
    .target(
      name: "PostgresEventLog",
      dependencies: ["EventLog", "CLibPQ"]
    ),
    .target(
      name: "PartnerSyncDomain",
      dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]
    ),
    .target(
      name: "PartnerSync",
      dependencies: [
        "EventLog", "PostgresEventLog", "PartnerSyncDomain",
        .product(name: "OrderedCollections", package: "swift-collections"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "partnersync",
      dependencies: [
        "PartnerSync", "EventLog", "PostgresEventLog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .target(
      name: "PartnerSyncServer",
      dependencies: [
        "PartnerSync", "PartnerSyncDomain",
        .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      resources: [.copy("openapi.json")]
    ),
    .executableTarget(
      name: "partnersync-server",
      dependencies: [
        "PartnerSyncServer", "PartnerSync", "PostgresEventLog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "PartnerSyncExample",
      dependencies: ["PartnerSync"]
    ),
    .executableTarget(
      name: "PartnerSyncBench",
      dependencies: ["PartnerSync", "EventLog", "CSQLite", "PostgresEventLog", "CLibPQ"]
    ),
    // The plain Hummingbird route that Scripts/bench-serve measures the server against.
    .executableTarget(
      name: "PartnerSyncServeBaseline",
      dependencies: [
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    // What the command-line tests measure in a process of their own: a timer's lateness while
    // asynchronous records wait for another process's write lock.
    .executableTarget(name: "PartnerSyncWaitProbe", dependencies: ["PartnerSync"], path: "Tests/PartnerSyncWaitProbe"),
    // The contract's third log, in Swift arrays: a test double, shipped in no product.
    .target(name: "EventLogTesting", dependencies: ["EventLog"], path: "Tests/EventLogTesting"),
    .testTarget(name: "EventLogTests", dependencies: ["EventLog", "EventLogTesting", "PostgresEventLog"]),
    .testTarget(
      name: "PartnerSyncTests",
      dependencies: [
        "PartnerSync", "PartnerSyncDomain", "EventLogTesting",
        .product(name: "OrderedCollections", package: "swift-collections"),
      ]),
    .testTarget(
      name: "CLITests",
      dependencies: ["partnersync", "PartnerSyncExample", "PartnerSyncWaitProbe", "PartnerSync", "PartnerSyncDomain"]),
    .testTarget(name: "ServerTests", dependencies: ["partnersync-server", "PartnerSync", "PartnerSyncServer"]),
  ],
  swiftLanguageModes: [.v6]
)

// A module uses only what it imports itself: a hidden import fails to build.
for target in package.targets where target.type != .system {
  target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
