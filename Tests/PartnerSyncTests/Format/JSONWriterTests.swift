import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

@Suite struct JSONWriterTests {
  @Test func canonicalExamples() throws {
    let value = try JSONParser.parse(
      #"{ "b": 1, "a": [true, false, null], "c": { "z": "x", "y": -0.5 }, "d": "" }"#)
    #expect(
      JSONWriter.string(value) == #"{"a":[true,false,null],"b":1,"c":{"y":-0.5,"z":"x"},"d":""}"#)
    #expect(
      JSONWriter.string(value, sortedKeys: false)
        == #"{"b":1,"a":[true,false,null],"c":{"z":"x","y":-0.5},"d":""}"#)
    #expect(JSONWriter.string(.null) == "null")
    #expect(JSONWriter.string([]) == "[]")
    #expect(JSONWriter.string(.object([])) == "{}")
    #expect(JSONWriter.string([[[]], [:]]) == "[[[]],{}]")
    #expect(JSONWriter.string(["k": "v"]) == #"{"k":"v"}"#)
  }

  @Test func sortsKeysByUTF8Bytes() {
    // UTF-8 byte order differs from UTF-16 order: U+FFFD sorts before U+1F600 here.
    let keys = ["😀", "b", "\u{FFFD}", "a", "", "B", "é", "aa", "z", "a\u{0}"]
    let value = JSONValue.object(keys.map { (key: $0, value: .null) })
    let expected =
      #"{"":null,"B":null,"a":null,"a\u0000":null,"aa":null,"b":null,"z":null,"é":null,"\#u{FFFD}":null,"😀":null}"#
    #expect(JSONWriter.string(value) == expected)
    #expect(JSONWriter.string(value, sortedKeys: false).hasPrefix(#"{"😀":null,"b":null"#))
  }

  @Test func outputDoesNotDependOnMemberOrder() {
    var rng = SplitMix64(seed: 7)
    let members: [(key: String, value: JSONValue)] = (0..<20).map {
      (key: "key\($0)", value: .number(Double($0)))
    }
    let reference = JSONWriter.string(.object(members))
    for _ in 0..<50 {
      let shuffled = members.shuffled(using: &rng)
      #expect(JSONWriter.string(.object(shuffled)) == reference)
      #expect(JSONValue.object(shuffled) == .object(members))
    }
  }

  @Test func escapesMinimally() {
    let s = "\"\\/\u{08}\u{0C}\n\r\t\u{0}\u{01}\u{1F}\u{7F} é€😀<>&'"
    #expect(
      JSONWriter.quoted(s)
        == #""\"\\/\b\f\n\r\t\u0000\u0001\u001f"# + "\u{7F} é€😀<>&'\"")
    #expect(JSONWriter.quoted("") == #""""#)
    #expect(JSONWriter.quoted("plain") == #""plain""#)
    #expect(JSONWriter.quoted("\u{1B}[0m") == #""\u001b[0m""#)
  }

  @Test(
    arguments: [
      (0.0, "0"), (-0.0, "0"), (2, "2"), (-3, "-3"), (1.25, "1.25"), (0.1, "0.1"),
      (-0.5, "-0.5"), (1e30, "1e+30"), (.leastNonzeroMagnitude, "5e-324"), (1e16, "1e+16"),
      (1e15, "1000000000000000"), (0x1p53 - 1, "9007199254740991"),
      (-(0x1p53 - 1), "-9007199254740991"), (0x1p53, "9007199254740992.0"),
      (0x1p53 + 2, "9.007199254740994e+15"), (1e-7, "1e-07"), (0.0001, "0.0001"),
      (-1.5e300, "-1.5e+300"), (1.7976931348623157e308, "1.7976931348623157e+308"),
      (123_456.789, "123456.789"),
    ] as [(Double, String)])
  func formatsNumbers(_ number: Double, _ expected: String) {
    #expect(JSONWriter.string(.number(number)) == expected)
  }

  @Test func writtenNumbersAreValidJSONAndRoundTrip() throws {
    var rng = SplitMix64(seed: 99)
    for _ in 0..<20_000 {
      let d = RandomJSON.number(&rng)
      let text = JSONWriter.string(.number(d))
      let parsed = try JSONParser.parse(text)
      #expect(parsed == .number(d), "\(d) written as \(text)")
    }
  }

  @Test func randomValuesRoundTrip() throws {
    var rng = SplitMix64(seed: 0x5EED)
    for _ in 0..<3000 {
      let value = RandomJSON.value(&rng)
      let sorted = JSONWriter.string(value)
      let unsorted = JSONWriter.string(value, sortedKeys: false)
      let fromSorted = try JSONParser.parse(sorted)
      let fromUnsorted = try JSONParser.parse(unsorted)
      #expect(fromSorted == value, "\(sorted)")
      #expect(identicalJSON(fromUnsorted, value), "\(unsorted)")
      // Canonical output is a fixed point.
      #expect(JSONWriter.string(fromSorted) == sorted)
      #expect(JSONWriter.string(fromUnsorted) == sorted)
      #expect(JSONWriter.string(fromUnsorted, sortedKeys: false) == unsorted)
    }
  }

  @Test func duplicateKeysInHandBuiltValuesKeepTheirOrder() {
    let value = JSONValue.object([(key: "b", value: 1), (key: "a", value: 2), (key: "a", value: 3)])
    #expect(JSONWriter.string(value) == #"{"a":2,"a":3,"b":1}"#)
  }
}
