import Foundation
import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// The codec reads event lines and stored data through the one JSON parser, and checks the
/// format only: JSON types, names, required and unknown fields. Value rules are the rules'.
@Suite("Event codec")
struct EventCodecTests {
  /// Lines that stress the edges of the format, each valid JSON or not.
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

  /// The event a line decodes to, or the error that refuses it (a JSON error or a format error).
  static func read(_ line: [UInt8]) -> Result<TicketEvent, EventFormatError> {
    do {
      return .success(try line.withUnsafeBufferPointer { try EventCodec.decode(line: $0) })
    } catch let error as JSONParseError {
      return .failure(EventFormatError("invalid JSON: \(error)"))
    } catch let error as EventFormatError {
      return .failure(error)
    } catch {
      return .failure(EventFormatError("\(error)"))
    }
  }

  /// The payload that stored `data` decodes to, or `nil`.
  static func payload(_ type: EventType, data: String) -> EventPayload? {
    var payload = EventPayload.accepted
    let read = Array(data.utf8).withUnsafeBufferPointer { EventCodec.decodePayload(type, data: $0, into: &payload) }
    return read ? payload : nil
  }

  /// `position` is ignored by `import`, whatever it holds (CONTRACT.md).
  @Test(arguments: ["12", #""12""#, "null", "{}", "[1]", "-5", "1.5"])
  func aPositionOfAnyValueIsIgnored(_ value: String) {
    let plain = Self.read(Array(#"{"type":"accepted","ticket":"T-1","by":"bolt"}"#.utf8))
    #expect(Self.read(Array(#"{"type":"accepted","position":\#(value),"ticket":"T-1","by":"bolt"}"#.utf8)) == plain)
  }

  /// Every event read writes back to a line and to stored data that read as the same event.
  @Test func eventsReadRoundTripThroughTheirLineAndTheirData() throws {
    var read = 0
    for line in try Self.lines() {
      guard case .success(let event) = Self.read(line) else { continue }
      read += 1
      #expect(Self.read(Array(event.jsonLine.utf8)) == .success(event), "\(String(decoding: line, as: UTF8.self))")
      #expect(Self.payload(event.type, data: EventCodec.data(of: event.payload)) == event.payload)
    }
    #expect(read > 300, "too few lines were read to test the round trip")
  }

  @Test(arguments: [
    (#"{"type":"accepted","ticket":"T-1","by":"bolt","type":"accepted"}"#, "duplicate key"),
    (#"{"type":"accepted","ticket":"T-1","by":"bolt","extra":{}}"#, "unknown field 'extra' for an accepted event"),
    (#"{"type":"accepted","ticket":5,"by":"bolt"}"#, "field 'ticket' must be a string, found a number"),
    (#"{"type":"accepted","ticket":"T 1","by":"bolt"}"#, "field 'ticket' may hold only"),
    (#"{"type":"accepted","ticket":"T-1","by":"bolt","at":"yesterday"}"#, "field 'at' is not an RFC 3339 time"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"a\u0000b"}"#, "NUL"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"memo"}"#, "unknown entry kind 'memo'"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1"}"#, "needs a 'kind'"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","kind":"note"}"#, "an entry-added event needs 'entry'"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":"1"}"#, "must be a number"),
    (
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"c1","kind":"charge","billable":"no"}"#,
      "true or false"
    ),
    (
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","visibility":"internal-users-only"}"#,
      "field 'visibility' must be 'public' or 'internal', found 'internal-users-only'"
    ),
    (
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","attachmentType":"disk"}"#,
      "must be file, url, file-link or folder-link, found 'disk'"
    ),
    (
      #"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1","text":"x","kind":"note"}"#,
      "'kind' cannot be edited"
    ),
    (#"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1","attachmentType":"url"}"#, "cannot be edited"),
    (#"{"type":"completion-rejected","ticket":"T-1","by":"acme"}"#, "needs a 'reason'"),
    (#"{"type":"declined","ticket":"T-1","by":"bolt","reason":null}"#, "field 'reason' must be a string, found null"),
    (#"{"type":"unknown","ticket":"T-1","by":"bolt"}"#, "unknown event type 'unknown'"),
    (#"["accepted"]"#, "an event must be a JSON object, found an array"),
  ])
  func formatErrorsAreTheCodecs(line: String, says: String) {
    guard case .failure(let error) = Self.read(Array(line.utf8)) else {
      Issue.record("accepted: \(line)")
      return
    }
    #expect(error.message.contains(says), "\(error.message)")
  }

  /// What the values mean is left to the rules (`TicketProjection.check`): such lines decode,
  /// and the rules refuse them, saying why.
  @Test(arguments: [
    (
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"a1","kind":"attachment","attachmentType":"file","name":"  "}"#,
      "'name' must not be blank"
    ),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"bundle-1","kind":"charge","amount":1}"#, "reserved"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n2","kind":"note","hours":1}"#, "does not belong"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time"}"#, "needs 'hours'"),
    (#"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"t1","kind":"time","hours":0}"#, "greater than 0"),
    (#"{"type":"entry-edited","ticket":"T-1","by":"acme","entry":"n1"}"#, "at least one field"),
    (#"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","rate":-1}"#, "'rate' must be a number"),
    (#"{"type":"completion-rejected","ticket":"T-1","by":"acme","reason":"\n"}"#, "blank"),
    (
      #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt","resource":" "}"#,
      "'resource' must not be blank"
    ),
  ])
  func valueRulesAreLeftToTheRules(line: String, says: String) throws {
    var projection = TicketProjection(ticket: "T-1")
    let history = [
      #"{"type":"outsourced","ticket":"T-1","by":"acme","partner":"bolt"}"#,
      #"{"type":"accepted","ticket":"T-1","by":"bolt"}"#,
      #"{"type":"entry-added","ticket":"T-1","by":"acme","entry":"n1","kind":"note","text":"x"}"#,
      #"{"type":"completion-requested","ticket":"T-1","by":"bolt"}"#,
    ]
    for (index, earlier) in history.enumerated() {
      let position = Int64(index + 1)
      try projection.apply(
        RecordedEvent(
          position: position, version: position, at: Timestamp(microseconds: position),
          event: Self.read(Array(earlier.utf8)).get()))
    }
    let event = try Self.read(Array(line.utf8)).get()
    #expect {
      try projection.validate(event)
    } throws: { error in
      (error as? RefusedEvent)?.reason.contains(says) == true
    }
  }

  /// The codec's names read from bytes are those of the raw values (a visibility an event may
  /// give: not `internal-users-only`), and no other text names anything.
  @Test func theCodecReadsNamesFromTheirBytesExactly() {
    var texts =
      EntryKind.allCases.map(\.rawValue) + Visibility.allCases.map(\.rawValue)
      + AttachmentType.allCases.map(\.rawValue) + EventType.allCases.map(\.rawValue) + ["", "x"]
    for name in texts {
      let bytes = Array(name.utf8)
      texts.append(String(name.dropLast()))
      texts.append(name + "s")
      for index in bytes.indices {
        var changed = bytes
        changed[index] ^= 0x20
        texts.append(String(decoding: changed, as: UTF8.self))
        changed[index] ^= 0x21
        texts.append(String(decoding: changed, as: UTF8.self))
      }
    }
    for text in texts {
      Array(text.utf8).withUnsafeBufferPointer { bytes in
        #expect(EventCodec.eventTypes.value(bytes) == EventType(rawValue: text), "'\(text)'")
        #expect(EventCodec.entryKinds.value(bytes) == EntryKind(rawValue: text), "'\(text)'")
        #expect(EventCodec.attachmentTypes.value(bytes) == AttachmentType(rawValue: text), "'\(text)'")
        let visibility = Visibility(rawValue: text).flatMap { $0 == .internalUsersOnly ? nil : $0 }
        #expect(EventCodec.visibilities.value(bytes) == visibility, "'\(text)'")
      }
    }
  }

  /// The parser reads an object in place (`withFlatObject`) as it reads it into a value: the
  /// same error at the same byte, or the same members; anything else is no object.
  @Test func objectsAreReadInPlaceAsIntoValues() throws {
    var lines = try Self.lines()
    lines += [
      #"{"a":[1,{"b":"\u00e9"}],"c":"d\n"}"#, #"{"a":{"b":{"c":[[[]]]}}}"#, #"{"a":[1,]}"#, #"{"a":"\u00e9","a":1}"#,
      #"{"a\u0000":1,"a":2,"a\u0000":3}"#, #"{"x":"\u00e9","y":[ "\n", "é" ],"z":"\t"}"#,
      "{" + String(repeating: "[", count: 70),
      "{" + (0..<20).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + #","k3":1}"#, #"{"a":1}  "#, "  ", "1 2",
    ].map { Array($0.utf8) }
    lines.append(Array(("{" + (0..<100).map { #""k\#($0)":"v\#($0)""# }.joined(separator: ",") + #","k99":1}"#).utf8))
    // Bytes that end or interrupt a string's plain text, at every offset of an eight-byte word.
    let inserts: [[UInt8]] = [[0xC3, 0xA9], [0xFF], [0x01], [0x00], [0x5C, 0x6E], [0xE2, 0x82], [0xED, 0xA0, 0x80]]
    for offset in 0..<17 {
      for insert in inserts {
        let text = Array(repeating: UInt8(ascii: "x"), count: offset) + insert + Array("yyyyyyyyy".utf8)
        lines.append(Array(#"{"a":""#.utf8) + text + Array(#"","b":1}"#.utf8))
        lines.append(
          Array(#"{"a":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: offset) + Array(#"","é":""#.utf8) + insert
            + Array(#""}"#.utf8))
      }
    }
    for line in lines {
      let text = String(decoding: line, as: UTF8.self)
      line.withUnsafeBufferPointer { bytes in
        let tree = Result { () throws(JSONParseError) in Self.summary(try JSONParser.parse(bytes)) }
        let flat = Result { () throws(JSONParseError) in try JSONParser.withFlatObject(bytes, Self.summary) }
        #expect(tree == flat, "\(text)")
      }
    }
  }

  /// A value's members (key, then value) when it is an object, else its kind.
  static func summary(_ value: JSONValue) -> [String] {
    func scalar(_ value: JSONValue) -> String {
      switch value {
      case .string(let text): "string \(text)"
      case .object: "object"
      case .array: "array"
      default: JSONWriter.string(value)
      }
    }
    guard case .object(let members) = value else { return [EventCodec.describe(.init(kindOf: value))] }
    return members.flatMap { [$0.key, scalar($0.value)] }
  }

  /// ``summary(_:)`` of a value read in place.
  static func summary(_ read: JSONFlatRead) -> [String] {
    guard case .object(let object) = read else {
      guard case .notAnObject(let kind) = read else { return [] }
      return [EventCodec.describe(kind)]
    }
    return object.members.flatMap { member -> [String] in
      let value: String
      switch member.value {
      case .string(let string): value = "string \(object.string(string))"
      case .object: value = "object"
      case .array: value = "array"
      case .null: value = "null"
      case .bool(let b): value = JSONWriter.string(.bool(b))
      case .number(let n): value = JSONWriter.string(.number(n))
      }
      return [object.string(member.key), value]
    }
  }

  /// Stored data is canonical JSON: keys in byte order, numbers in their shortest form, strings
  /// escaped only where they must be (the log's hash chain depends on these bytes).
  @Test func storedDataIsCanonical() {
    let odd = EventPayload.entryAdded(
      entry: "n1",
      content: EntryContent(kind: .charge, hours: 0.1, title: "q\"\\\u{1}é", amount: -1e30, billable: false))
    #expect(
      EventCodec.data(of: odd)
        == #"{"amount":-1e+30,"billable":false,"entry":"n1","hours":0.1,"kind":"charge","title":"q\"\\\u0001é"}"#)
    let outsourced = EventPayload.outsourced(Outsourcing(partner: "bolt", resource: "dana", rate: 95))
    #expect(EventCodec.data(of: outsourced) == #"{"partner":"bolt","rate":95,"resource":"dana"}"#)
    #expect(
      EventCodec.withData(of: outsourced) { String(decoding: $0, as: UTF8.self) } == EventCodec.data(of: outsourced))
  }

  @Test func storedDataThatIsNoEventsFieldsIsNotRead() {
    let samples = [
      #"{"entry":"n1","kind":"note","text":"x","text":"y"}"#, #"{"entry":"n1","kind":"note","zzz":1}"#,
      #"{"entry":"n1","kind":"note"} x"#, #"{"entry":"n1","kind":"time","hours":1e400}"#, #"[]"#, "",
    ]
    for sample in samples {
      #expect(Self.payload(.entryAdded, data: sample) == nil, "\(sample)")
    }
    #expect(
      Self.payload(.entryAdded, data: #" {"kind":"note","entry":"n1","text":"\u00e9"} "#)
        == .entryAdded(entry: "n1", content: EntryContent(kind: .note, text: "é")))
    #expect(Self.payload(.accepted, data: "{}") == .accepted)
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
