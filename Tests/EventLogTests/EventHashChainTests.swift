import EventLog
import Testing

@Suite("Hash chain")
struct EventHashChainTests {
  /// Three events and their chain links, computed independently with
  /// Python's hashlib, pin the canonical byte format.
  static let goldenEvents: [EventRecord] = [
    EventRecord(
      stream: "ticket-1", type: "opened", actor: "ann", time: 1_700_000_000_000_000,
      data: #"{"title":"Hello"}"#),
    EventRecord(
      stream: "ticket-2", type: "opened", actor: "bob", time: 1_700_000_000_000_001,
      data: #"{"title":"Zürich ✓"}"#),
    EventRecord(
      stream: "ticket-1", type: "closed", actor: "ann", time: 1_700_000_000_000_002, data: ""),
  ]
  static let goldenHashes = [
    "8faba89f02c493e6d2e8ad2ee07f8d9cf1dc3d736681c1cdaa54d77d33b4f414",
    "fd6ae54fe2715d04262f9aae821d8e02e1e3ba4b9139ea0a68a6b26cfd9ec698",
    "c5c55cc202132ac940ad79bccd06bfa98a06b88e8f6107c99677d2d98b32c8ca",
  ]

  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
      let digits = String(byte, radix: 16)
      return digits.count == 1 ? "0" + digits : digits
    }.joined()
  }

  @Test func chainMatchesGoldenVectors() {
    var chain = EventHashChain()
    #expect(chain.lastHash == EventHashChain.genesis)
    let versions: [Int64] = [1, 1, 2]
    for (index, event) in Self.goldenEvents.enumerated() {
      chain.append(
        StoredEvent(
          position: Int64(index + 1), stream: event.stream, version: versions[index], type: event.type,
          actor: event.actor, time: event.time, data: event.data, hash: []))
      #expect(Self.hex(chain.lastHash) == Self.goldenHashes[index])
    }
  }

  @Test(arguments: Backend.allCases)
  func backendsStoreTheGoldenHashes(_ backend: Backend) throws {
    try backend.withLog { log in
      _ = try log.append(Array(Self.goldenEvents[0..<2]), expectedVersions: [:])
      _ = try log.append([Self.goldenEvents[2]], expectedVersions: ["ticket-1": 1])
      let hashes = try log.events().map { Self.hex($0.hash) }
      #expect(hashes == Self.goldenHashes)
    }
  }

  @Test func canonicalBytesLayout() {
    let event = StoredEvent(
      position: 1, stream: "s", version: 2, type: "t", actor: "", time: -1, data: "é", hash: [])
    let bytes = EventHashChain.canonicalBytes(of: event)
    let expected: [UInt8] =
      [1, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0, 0x73] + [2, 0, 0, 0, 0, 0, 0, 0]
      + [1, 0, 0, 0, 0, 0, 0, 0, 0x74] + [0, 0, 0, 0, 0, 0, 0, 0]
      + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + [2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0xA9]
    #expect(bytes == expected)
  }

  @Test func rejectsALastHashOfTheWrongLength() {
    #expect(EventHashChain(lastHash: [1, 2, 3]) == nil)
    #expect(EventHashChain(lastHash: EventHashChain.genesis) != nil)
  }
}
