import EventLog
import Testing

@Suite("Name table")
struct NameTableTests {
  /// Names that share their length, their first eight bytes or both, short and long, with and
  /// without NUL bytes: each gets a slot of its own, and is found there again.
  @Test
  func namesAlikeInLengthOrFirstBytesKeepSlotsOfTheirOwn() {
    let names: [[UInt8]] = [
      [], [0], [0, 0], Array("a".utf8), Array("a".utf8) + [0], Array("ab".utf8), Array("ba".utf8),
      Array("T-100246".utf8), Array("T-100247".utf8), Array("T-10024".utf8), Array("T-100246".utf8) + [0],
      Array("T-1002460".utf8), Array("T-1002461".utf8), Array("T-100246-long-name".utf8),
      Array("T-100246-long-namf".utf8), Array("U-100246-long-name".utf8),
    ]
    var table = NameTable()
    var added: [String] = []
    for (index, name) in names.enumerated() {
      let slot = name.withUnsafeBufferPointer { table.slot(of: $0) { added.append($0) } }
      #expect(slot == index)
    }
    #expect(added == names.map { String(decoding: $0, as: UTF8.self) })
    // Many more names, so that the table grows and probes past full places.
    for number in 0..<2_000 {
      let name = Array("T-\(number)".utf8)
      _ = name.withUnsafeBufferPointer { table.slot(of: $0) }
    }
    for (index, name) in names.enumerated() {
      let slot = name.withUnsafeBufferPointer { table.slot(of: $0) { _ in Issue.record("added again") } }
      #expect(slot == index)
    }
    #expect(table.names.count == names.count + 2_000)
    #expect(table.slot(of: "T-1999") == names.count + 1_999)
  }
}

@Suite("Stream order")
struct StreamOrderTests {
  /// Streams sort by their UTF-8 bytes, as SQLite's BINARY collation does: prefixes first,
  /// canonically equivalent spellings apart, bytes above 0x7F after ASCII.
  @Test
  func streamsSortByTheirBytes() {
    let streams = [
      "T-2", "T-10", "T-1", "", "T-1", "t-1", "T-1\u{0}", "caf\u{E9}", "cafe\u{301}", "caf", "\u{1F600}", "Z", "é",
      "T-100246-long-name", "T-100246-long-namf", "T-100246",
    ]
    let expected = streams.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    #expect(streams.sortedByUTF8().map { Array($0.utf8) } == expected.map { Array($0.utf8) })
    #expect(streams.sortedByUTF8().first == "")
    #expect(streams.sortedByUTF8().last == "\u{1F600}")
  }
}
