import Foundation
import Testing

@testable import PartnerSync

/// The codec reads events straight from their bytes and writes stored data directly; these tests
/// hold both to the slower general path they stand in for: every input the fast path accepts, the
/// parser reads alike, and every input the parser refuses, the fast path leaves to it.
@Suite("Event codec fast paths")
struct EventCodecFastPathTests {
  /// Lines that stress the edges of the fast path, each valid JSON or not.
  static let edgeLines: [String] = [
    #"{"type":"accepted","ticket":"T-1","by":"bolt"}"#,
    #"  { "type" : "accepted" , "ticket":"T-1","by":"bolt" }  "#,
    "{\"type\":\"accepted\",\t\"ticket\":\"T-1\",\r\"by\":\"bolt\"}",
    #"{"type":"accepted","ticket":"T-1","by":"bolt","position":12}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","position":"12"}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","position":1e999}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T09:00:00+02:00"}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","at":"2026-03-02T09:00:00\u005a"}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","at":"yesterday"}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","type":"accepted"}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","extra":{}}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt","extra":[1]}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt",}"#,
    #"{"type":"accepted","ticket":"T-1","by":"bolt"} x"#,
    #"{"typ\u0065":"accepted","ticket":"T-1","by":"bolt"}"#,
    #"{"type":"acc\u0065pted","ticket":"T-1","by":"bolt"}"#,
    #"{"type":"accepted","ticket":"T-\u0031","by":"bolt"}"#,
    #"{"type":"accepted","ticket":"T 1","by":"bolt"}"#,
    #"{"type":"accepted","ticket":5,"by":"bolt"}"#,
    #"{"type":"accepted","ticket":null,"by":"bolt"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"a\u0000b"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"\ud83d"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"\x"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","title":"😀 ✓ é"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","visibility":"internal-users-only"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","visibility":"internal"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":1.5}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":0}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":-0.0}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":1E2}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":01}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":1.}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":0.1000000000000000055511151231257827}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":"1"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"c1","kind":"charge","amount":12.5,"billable":false}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"c1","kind":"charge","amount":12.5,"billable":"no"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","attachmentType":"file","name":"x.pdf","uri":"u"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","attachmentType":"file","name":"  "}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","attachmentType":"disk","name":"x"}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"bundle-1","kind":"charge","amount":1}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","hours":1}"#,
    #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"memo"}"#,
    #"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1","text":"x","kind":"note"}"#,
    #"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1"}"#,
    #"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1","uri":"v","billable":true}"#,
    #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","rate":-1}"#,
    #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","rate":95.5,"resource":"dana"}"#,
    #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":" "}"#,
    #"{"type":"completion-rejected","ticket":"T-1","by":"acme","reason":"\n"}"#,
    #"{"type":"completion-rejected","ticket":"T-1","by":"acme"}"#,
    #"{"type":"declined","ticket":"T-1","by":"bolt","reason":null}"#,
    #"{"type":"unknown","ticket":"T-1","by":"bolt"}"#,
    #"["accepted"]"#,
    #""accepted""#,
    "",
    "{" + (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}",
  ]

  /// Every line of the fuzz corpus, the edge lines above, and lines written by the codec for
  /// random histories.
  static func lines() throws -> [[UInt8]] {
    var lines = edgeLines.map { Array($0.utf8) }
    let corpus = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fuzz/corpus")
    for name in try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted() {
      let bytes = try [UInt8](Data(contentsOf: corpus.appendingPathComponent(name)))
      lines += bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    }
    lines.append([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])  // a key that is not UTF-8
    for seed in 0..<6 as Range<UInt64> {
      for event in try RandomHistory(seed: seed, length: 60).ticket.recorded.map(\.event) {
        lines.append(Array(event.jsonLine.utf8))
      }
    }
    return lines
  }

  @Test func linesReadFromTheirBytesAsTheParserReadsThem() throws {
    var fast = 0
    for line in try Self.lines() {
      let quick = line.withUnsafeBufferPointer { EventCodec.decode(line: $0) }
      let full = try? EventCodec.decode(line: JSONParser.parse(line))
      if let quick {
        fast += 1
        #expect(quick == full, "\(String(decoding: line, as: UTF8.self))")
      } else if full != nil {
        // Left to the parser: allowed (escaped keys, more than a few members), never wrong.
        continue
      }
    }
    #expect(fast > 300, "the fast path took too few lines to be tested")
  }

  /// Each entry field's key is the key of that name, both ways, and the other keys name no field.
  @Test func entryFieldsAndTheirKeysCorrespond() {
    for field in EntryField.allCases {
      let key = FieldKey(rawValue: FieldKey.rawValue(of: field))
      #expect(key?.name == field.rawValue)
      #expect(key?.entryField == field)
    }
    let keys = (0...255).compactMap { FieldKey(rawValue: UInt8($0)) }
    #expect(keys.count == 20)
    for key in keys where !EntryField.allCases.map(\.rawValue).contains(key.name) {
      #expect(key.entryField == nil, "\(key.name)")
    }
  }

  /// Names read from bytes: each raw value names its case, and no other text names anything
  /// (each raw value with one byte changed, cut or added, and the other types' names).
  @Test func namesAreReadFromTheirBytesExactly() {
    func check<Name: NamedByRawValue & Equatable>(_ type: Name.Type, among others: [String]) {
      var texts = others
      for name in Name.allCases {
        let bytes = Array(name.rawValue.utf8)
        #expect(bytes.withUnsafeBufferPointer { Name(utf8: $0) } == name)
        texts.append(String(name.rawValue.dropLast()))
        texts.append(name.rawValue + "s")
        for index in bytes.indices {
          var changed = bytes
          changed[index] ^= 0x20
          texts.append(String(decoding: changed, as: UTF8.self))
        }
      }
      for text in texts {
        let read = Array(text.utf8).withUnsafeBufferPointer { Name(utf8: $0) }
        #expect(read == Name.named(text), "\(Name.self): '\(text)'")
      }
    }
    let every =
      EntryKind.allCases.map(\.rawValue) + Visibility.allCases.map(\.rawValue)
      + AttachmentType.allCases.map(\.rawValue) + EventType.allCases.map(\.rawValue) + ["", "x"]
    check(EntryKind.self, among: every)
    check(Visibility.self, among: every)
    check(AttachmentType.self, among: every)
    check(EventType.self, among: every)
  }

  @Test func storedDataIsWrittenAsTheCanonicalWriterWritesIt() throws {
    for seed in 0..<10 as Range<UInt64> {
      for event in try RandomHistory(seed: seed, length: 80).ticket.recorded.map(\.event) {
        let direct = EventCodec.data(of: event.payload)
        let general = JSONWriter.string(.object(EventCodec.ownFields(of: event.payload)), sortedKeys: true)
        #expect(direct == general)
        let read = Array(direct.utf8).withUnsafeBufferPointer { EventCodec.decodePayload(event.type, data: $0) }
        #expect(read == event.payload)
      }
    }
    let odd = EventPayload.entryAdded(
      entry: "n1",
      content: EntryContent(
        kind: .charge, hours: 0.1, title: "q\"\\\u{1}é", amount: -1e30, billable: false))
    #expect(
      EventCodec.data(of: odd)
        == JSONWriter.string(.object(EventCodec.ownFields(of: odd)), sortedKeys: true))
  }

  @Test func bytesCompareEqualExactlyWhenEveryByteIs() {
    for count in 0...40 {
      // One byte more than compared, so that no buffer is empty; it always differs.
      let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
      func equal(_ other: [UInt8]) -> Bool {
        (bytes + [1]).withUnsafeBufferPointer { a in
          (other + [2]).withUnsafeBufferPointer { b in memoryEqual(a.baseAddress!, b.baseAddress!, count: count) }
        }
      }
      #expect(equal(bytes), "\(count) equal bytes")
      for place in 0..<count {
        var other = bytes
        other[place] ^= 0x40
        #expect(!equal(other), "\(count) bytes, differing at \(place)")
      }
    }
  }

  @Test func storedDataReadFromItsBytesAsTheParserReadsIt() throws {
    let samples = [
      #"{"entry":"n1","kind":"note","text":"x"}"#, #"{"kind":"note","entry":"n1"}"#,
      #"{"entry":"n1","kind":"note","text":"x","text":"y"}"#, #"{"entry":"n1","kind":"note","zzz":1}"#,
      #"{"entry":"n1","kind":"note","text":"\u00e9"}"#, #"{"entry":"n1","kind":"note"} "#,
      #"{"entry":"n1","kind":"time","hours":1e-400}"#, #"{"entry":"n1"}"#, #"{}"#, #"[]"#, "",
    ]
    for sample in samples {
      for type in EventType.allCases {
        let quick = Array(sample.utf8).withUnsafeBufferPointer { EventCodec.decodePayload(type, data: $0) }
        var full: EventPayload?
        if case .object(let fields)? = try? JSONParser.parse(sample) {
          full = try? EventCodec.decodePayload(type, fields: fields)
        }
        if let quick { #expect(quick == full, "\(type.rawValue): \(sample)") }
        if full == nil { #expect(quick == nil, "\(type.rawValue): \(sample)") }
      }
    }
  }
}

/// A document of a megabyte or more is parsed in two halves on two threads: the line numbers and
/// the error reported must be those of a parse from the top.
@Suite struct LargeDocumentParseTests {
  /// `count` lines of notes on ticket T-1 (after its outsourcing and acceptance), with a blank
  /// line every 7th line, and `bad` lines replaced by a line that is not JSON.
  static func document(count: Int, bad: Set<Int> = []) -> (bytes: [UInt8], eventLines: [Int]) {
    var lines: [String] = []
    var eventLines: [Int] = []
    for number in 1...count {
      if bad.contains(number) {
        lines.append("{not json")
      } else if number % 7 == 0 {
        lines.append("   ")
      } else {
        lines.append(
          #"{"type":"entry-added","ticket":"T-1","by":"bolt","entry":"n\#(number)","kind":"note","text":"line \#(number) of a large document, long enough to make a megabyte in a few thousand lines"}"#
        )
        eventLines.append(number)
      }
    }
    return (Array(lines.joined(separator: "\n").utf8), eventLines)
  }

  @Test func linesAreNumberedAsFromTheTop() throws {
    let (bytes, eventLines) = Self.document(count: 12_000)
    #expect(bytes.count >= DocumentLines.parallelBytes, "the document is parsed in two halves")
    let parsed = try EventLines.parse(bytes)
    #expect(parsed.count == eventLines.count)
    let mismatch = zip(parsed.map(\.line), eventLines).enumerated().first { $0.element.0 != $0.element.1 }
    #expect(
      mismatch == nil,
      "event \(mismatch?.offset ?? 0) is numbered \(mismatch?.element.0 ?? 0), not \(mismatch?.element.1 ?? 0)")
    #expect(parsed.last?.event.payload.entry == "n\(eventLines.last!)")
  }

  @Test(arguments: [[11_000], [200, 11_000], [6_001]])
  func theFirstBadLineIsReported(bad: [Int]) throws {
    let (bytes, _) = Self.document(count: 12_000, bad: Set(bad))
    #expect(bytes.count >= DocumentLines.parallelBytes)
    do {
      _ = try EventLines.parse(bytes)
      Issue.record("a bad line was accepted")
    } catch {
      #expect(error.code == .invalidEvent)
      #expect(error.line == bad.min(), "\(error.message)")
    }
  }
}
