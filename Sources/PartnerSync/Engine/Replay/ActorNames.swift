import Foundation
import PartnerSyncDomain

/// The actors seen lately, so that the few partners acting throughout a log are each made into a
/// string once rather than once per event.
struct ActorNames: Sendable {
  private var known: [(bytes: [UInt8], name: String)] = []
  private var next = 0
  /// How many names are kept.
  static let capacity = 16

  /// The actor named `bytes`.
  mutating func name(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    for entry in known where entry.bytes.count == bytes.count {
      let same =
        bytes.isEmpty
        || entry.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
      if same { return entry.name }
    }
    let name = String(decoding: bytes, as: UTF8.self)
    if known.count < Self.capacity {
      known.append((Array(bytes), name))
    } else {
      known[next] = (Array(bytes), name)
      next = (next + 1) % Self.capacity
    }
    return name
  }
}
