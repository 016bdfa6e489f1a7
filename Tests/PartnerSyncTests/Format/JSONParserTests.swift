import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

struct JSONParseFailureCase: Sendable, CustomTestStringConvertible {
  let input: [UInt8]
  let message: String
  let offset: Int

  init(_ text: String, _ message: String, _ offset: Int) {
    self.input = Array(text.utf8)
    self.message = message
    self.offset = offset
  }

  init(bytes: [UInt8], _ message: String, _ offset: Int) {
    self.input = bytes
    self.message = message
    self.offset = offset
  }

  var testDescription: String {
    let shown = input.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "·" }
    return "\(shown.joined()) → \(message)"
  }
}

let jsonParseFailureCases: [JSONParseFailureCase] = [
  // End of input.
  .init("", "unexpected end of input", 0),
  .init("   \n", "unexpected end of input", 4),
  .init("[1,2", "unexpected end of input", 4),
  .init("{\"a\":1", "unexpected end of input", 6),
  .init("{\"a\"", "unexpected end of input", 4),
  .init("tru", "unexpected end of input", 3),
  .init("-", "unexpected end of input", 1),
  .init("1.", "unexpected end of input", 2),
  .init("1e+", "unexpected end of input", 3),
  .init("\"\\", "unexpected end of input", 2),
  .init("\"\\u12", "unexpected end of input", 5),
  .init("\"abc", "unterminated string", 0),
  // Structure.
  .init("[1,]", "trailing comma in array", 3),
  .init("{\"a\":1,}", "trailing comma in object", 7),
  .init("[1 2]", "expected ',' or ']' after array element", 3),
  .init("{\"a\":1 \"b\":2}", "expected ',' or '}' after object member", 7),
  .init("{\"a\" 1}", "expected ':' after object key", 5),
  .init("{a:1}", "expected a string as object key", 1),
  .init("{1:1}", "expected a string as object key", 1),
  .init("{'a':1}", "strings must use double quotes", 1),
  .init("'a'", "strings must use double quotes", 0),
  .init("[,1]", "expected a JSON value", 1),
  .init("{\"a\":}", "expected a JSON value", 5),
  .init("]", "expected a JSON value", 0),
  .init("[1] x", "trailing characters after the JSON value", 4),
  .init("1 2", "trailing characters after the JSON value", 2),
  .init("{}{}", "trailing characters after the JSON value", 2),
  .init("// comment\n1", "comments are not allowed", 0),
  .init("[/* x */1]", "comments are not allowed", 1),
  .init("{\"a\":1,\"a\":2}", "duplicate key \"a\"", 7),
  .init("{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"", 7),
  .init("{\"x\":{\"k\\n\":1,\"k\\n\":2}}", "duplicate key \"k\\n\"", 14),
  // Literals.
  .init("trux", "invalid literal (expected true, false or null)", 0),
  .init("True", "invalid literal (expected true, false or null)", 0),
  .init("nul1", "invalid literal (expected true, false or null)", 0),
  .init("NaN", "NaN and Infinity are not valid JSON", 0),
  .init("Infinity", "NaN and Infinity are not valid JSON", 0),
  .init("[-Infinity]", "NaN and Infinity are not valid JSON", 1),
  // Numbers.
  .init("01", "leading zeros are not allowed", 0),
  .init("-012", "leading zeros are not allowed", 0),
  .init("00.5", "leading zeros are not allowed", 0),
  .init("-a", "expected a digit after '-'", 1),
  .init("- 1", "expected a digit after '-'", 1),
  .init("1.e5", "expected a digit after the decimal point", 2),
  .init("1ex", "expected a digit in the exponent", 2),
  .init("+1", "numbers must not start with '+'", 0),
  .init(".5", "numbers must start with a digit", 0),
  .init("1e400", "number is too large", 0),
  .init("[-1.5e99999999999]", "number is too large", 1),
  .init("0x10", "trailing characters after the JSON value", 1),
  // Strings.
  .init("\"a\u{01}b\"", "unescaped control character U+0001 in string", 2),
  .init("\"a\nb\"", "unescaped control character U+000A in string", 2),
  .init("\"\\u0041\u{1F}\"", "unescaped control character U+001F in string", 7),
  .init("\"\\x\"", "invalid escape sequence '\\x'", 1),
  .init("\"\\'\"", "invalid escape sequence '\\''", 1),
  .init("\"ab\\U0041\"", "invalid escape sequence '\\U'", 3),
  .init("\"\\u12G4\"", "invalid \\u escape (expected 4 hex digits)", 1),
  .init("\"\\uD800\"", "unpaired surrogate in \\u escape", 1),
  .init("\"\\uDC00\"", "unpaired surrogate in \\u escape", 1),
  .init("\"\\uD800\\u0041\"", "unpaired surrogate in \\u escape", 1),
  .init("\"\\uD800\\n\"", "unpaired surrogate in \\u escape", 1),
  .init("\"\\uDBFF\\uDBFF\"", "unpaired surrogate in \\u escape", 1),
  // NUL bytes.
  .init(bytes: [0x5B, 0x00, 0x5D], "unexpected NUL byte", 1),
  .init(bytes: [0x22, 0x61, 0x00, 0x22], "unexpected NUL byte", 2),
  .init(bytes: [0x31, 0x00], "unexpected NUL byte", 1),
  // Invalid UTF-8.
  .init(bytes: [0x22, 0xC3, 0x28, 0x22], "invalid UTF-8", 1),
  .init(bytes: [0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8", 1),  // overlong '/'
  .init(bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8", 1),  // overlong
  .init(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8", 1),  // encoded surrogate
  .init(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8", 1),  // > U+10FFFF
  .init(bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8", 1),
  .init(bytes: [0x22, 0x80, 0x22], "invalid UTF-8", 1),  // stray continuation
  .init(bytes: [0x22, 0xE2, 0x82], "invalid UTF-8", 1),  // truncated at end
  .init(bytes: [0x22, 0x5C, 0x6E, 0xFF, 0x22], "invalid UTF-8", 3),  // after an escape
  .init(bytes: [0xFF], "invalid UTF-8", 0),
  .init(bytes: [0x5B, 0x31, 0x5D, 0xFE], "invalid UTF-8", 3),
  .init(bytes: [0xEF, 0xBB, 0xBF, 0x31], "expected a JSON value", 0),  // BOM
  .init("[é]", "expected a JSON value", 1),
  // Depth.
  .init(
    String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    "nesting deeper than 64 levels", 64),
  .init(
    String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65),
    "nesting deeper than 64 levels", 64 * 5),
]

@Suite struct JSONParserTests {
  @Test(arguments: jsonParseFailureCases)
  func rejects(_ c: JSONParseFailureCase) {
    #expect(throws: JSONParseError(message: c.message, offset: c.offset)) {
      try JSONParser.parse(c.input)
    }
  }

  @Test func hasEnoughFailureCases() {
    #expect(jsonParseFailureCases.count >= 30)
  }

  @Test func parsesScalarsAndStructure() throws {
    #expect(try JSONParser.parse("null") == .null)
    #expect(try JSONParser.parse(" true ") == .bool(true))
    #expect(try JSONParser.parse("\t\r\nfalse\n") == .bool(false))
    #expect(try JSONParser.parse("[]") == .array([]))
    #expect(try JSONParser.parse("{}") == .object([]))
    #expect(try JSONParser.parse("[ 1 , [ ] , { } ]") == [1, [], .object([])])
    let value = try JSONParser.parse(#"{"b": [1, "x", null], "a": {"c": false}}"#)
    #expect(value == ["b": [1, "x", nil], "a": ["c": false]])
    #expect(value.objectValue?.map(\.key) == ["b", "a"])  // source order kept
    #expect(value["a"]?["c"]?.boolValue == false)
    #expect(value["missing"] == nil)
  }

  /// Numbers read as the standard library's correctly rounded conversion reads them (to the
  /// bit, signed zeros included); what the JSON grammar refuses is refused.
  @Test func numbersReadAsTheStandardLibraryReadsThem() throws {
    let valid = [
      "0", "-0", "0.0", "-0.0", "1", "-1", "0.5", "7.25", "40", "120", "1e3", "1E-3", "-2.5e+2",
      "9007199254740993", "123456789012345678901234567890", "0.1", "0.30000000000000004",
      "2.2250738585072014e-308", "5e-324", "1.7976931348623157e308", " 1", "1 ",
    ]
    for token in valid {
      let expected = Double(token.filter { $0 != " " })
      #expect(try JSONParser.parse(token).doubleValue?.bitPattern == expected?.bitPattern, "\(token)")
    }
    for token in ["1e999", "-1e999", "01", "-", "1.", ".5", "1e", "1-2", "+1", "--1", "1.5.5", "", "-Infinity"] {
      #expect(throws: JSONParseError.self, "\(token)") { try JSONParser.parse(token) }
    }
  }

  @Test func acceptsNestingUpToTheLimit() throws {
    let depth = JSONParser.maxDepth
    let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    var value = try JSONParser.parse(text)
    var levels = 0
    while case .array(let inner) = value {
      levels += 1
      value = inner.first ?? .null
    }
    #expect(levels == depth)
  }

  @Test func tenMegabytesOfOpenBracketsFailCleanly() {
    let input = [UInt8](repeating: UInt8(ascii: "["), count: 10 * 1024 * 1024)
    #expect(throws: JSONParseError(message: "nesting deeper than 64 levels", offset: 64)) {
      try JSONParser.parse(input)
    }
    let objects = Array(String(repeating: "{\"k\":[", count: 1_000_000).utf8)
    #expect(throws: JSONParseError(message: "nesting deeper than 64 levels", offset: 32 * 6)) {
      try JSONParser.parse(objects)
    }
  }

  @Test func decodesEscapes() throws {
    let text = #""a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20AC\ud83d\ude00\u0000z""#
    let expected = "a\"b\\c/d\u{08}e\u{0C}f\ng\rh\tiAé€😀\u{0}z"
    #expect(try JSONParser.parse(text) == .string(expected))
    #expect(try JSONParser.parse(#""\\""#) == .string("\\"))
    #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == .string("𝄞"))
  }

  @Test func keepsRawUTF8() throws {
    let text = "\"héllo wörld € 😀 \u{7F}\""
    #expect(try JSONParser.parse(text) == .string("héllo wörld € 😀 \u{7F}"))
    let decomposed = "\"e\u{301}\""
    // Canonically equivalent strings are still different JSON strings.
    #expect(try JSONParser.parse(decomposed) != .string("é"))
    #expect(try JSONParser.parse(#"{"é":1,"e\u0301":2}"#).objectValue?.count == 2)
  }

  @Test(
    arguments: [
      ("0", 0.0), ("-0", -0.0), ("1", 1), ("-1", -1), ("10", 10), ("0.5", 0.5), ("-0.25", -0.25),
      ("0.1", 0.1), ("1e3", 1000), ("1E+3", 1000), ("1e-3", 0.001), ("2.5e-5", 2.5e-5),
      ("123456789", 123_456_789), ("9007199254740993", 9_007_199_254_740_992),
      ("1e23", 1e23), ("1.7976931348623157e308", 1.7976931348623157e308),
      ("2.2250738585072014e-308", 2.2250738585072014e-308), ("5e-324", .leastNonzeroMagnitude),
      ("4.9e-324", .leastNonzeroMagnitude), ("1e-400", 0), ("0e999999", 0),
      ("0.000000000000000000000000000001", 1e-30),
      ("123456789012345678901234567890", 1.2345678901234568e29),
      ("3.141592653589793238462643383279", 3.141592653589793),
      ("1.00000000000000000000000000000000000001", 1),
    ] as [(String, Double)])
  func parsesNumbersExactly(_ text: String, _ expected: Double) throws {
    let value = try JSONParser.parse(text)
    #expect(value == .number(expected))
    #expect(value.doubleValue?.sign == expected.sign)
  }

  @Test func numberConversionMatchesStandardLibrary() throws {
    var rng = SplitMix64(seed: 42)
    for _ in 0..<20_000 {
      var text = rng.below(2) == 0 ? "-" : ""
      text += String((rng.next() % 10_000_000_000) >> UInt64(rng.below(40)))
      if rng.below(2) == 0 {
        text += "." + String(repeating: "0", count: rng.below(4)) + String(rng.next() % 100_000_000)
      }
      if rng.below(2) == 0 { text += "e\(rng.below(700) - 350)" }
      let expected = Double(text)!
      guard expected.isFinite else { continue }
      #expect(try JSONParser.parse(text) == .number(expected), "\(text)")
    }
  }

  @Test func bytesAndStringOverloadsAgree() throws {
    let text = #"{"a":[1,2.5,"x\n"],"b":null}"#
    let fromString = try JSONParser.parse(text)
    let fromBytes = try Array(text.utf8).withUnsafeBufferPointer { try JSONParser.parse($0) }
    #expect(identicalJSON(fromString, fromBytes))
  }

  @Test func largeObjectsDetectDuplicatesToo() throws {
    var members = (0..<100).map { "\"k\($0)\":\($0)" }
    let ok = try JSONParser.parse("{" + members.joined(separator: ",") + "}")
    #expect(ok.objectValue?.count == 100)
    #expect(ok["k99"] == 99)
    members.append("\"k\\u0037\":0")  // "k7"
    let text = "{" + members.joined(separator: ",") + "}"
    #expect(throws: JSONParseError(message: "duplicate key \"k7\"", offset: text.utf8.count - 12)) {
      try JSONParser.parse(text)
    }
  }

  @Test func wideAndLongValuesRoundTrip() throws {
    // Exceeds the parser's initial stack buffers (array elements, object members, scratch).
    let long = String(repeating: "ab\"c\\d\n\u{1}é😀", count: 500)
    let wideObject = JSONValue.object(
      (0..<300).map { (key: "key \($0)\n", value: .string("\($0) \(long.prefix($0))")) })
    var elements: [JSONValue] = []
    for i in 0..<200 {
      let nested: JSONValue = [[[.number(Double(i))]]]
      elements.append(
        i % 50 == 0 ? wideObject : .array([.number(Double(i)), .string(long), nested]))
    }
    let value = JSONValue.array(elements)
    for sorted in [true, false] {
      let text = JSONWriter.string(value, sortedKeys: sorted)
      let parsed = try JSONParser.parse(text)
      #expect(parsed == value)
      #expect(JSONWriter.string(parsed, sortedKeys: sorted) == text)
    }
  }

  @Test func equalityFollowsJSONSemantics() {
    let a: JSONValue = ["x": 1, "y": [true, nil]]
    let b: JSONValue = ["y": [true, nil], "x": 1]
    #expect(a == b)
    #expect(a != ["x": 1, "y": [true, false]])
    #expect(a != ["x": 1])
    #expect(JSONValue.number(0) == .number(-0.0))
    #expect(JSONValue.string("é") != .string("e\u{301}"))
    #expect(JSONValue.array([1, 2]) != [2, 1])
    #expect(JSONValue.null != .bool(false))
  }

  @Test func accessors() {
    let value: JSONValue = ["s": "t", "n": 3, "f": 2.5, "b": true, "a": [1], "z": nil]
    #expect(value["s"]?.stringValue == "t")
    #expect(value["n"]?.int64Value == 3)
    #expect(value["f"]?.int64Value == nil)
    #expect(value["f"]?.doubleValue == 2.5)
    #expect(value["b"]?.boolValue == true)
    #expect(value["a"]?.arrayValue == [1])
    #expect(value["z"]?.isNull == true)
    #expect(value["s"]?.int64Value == nil)
    #expect(JSONValue.number(0x1p63).int64Value == nil)
    #expect(JSONValue.number(-0x1p63).int64Value == Int64.min)
  }

  @Test func errorDescriptionMentionsOffset() {
    let error = JSONParseError(message: "expected ':' after object key", offset: 5)
    #expect(error.description == "expected ':' after object key (at byte 5)")
  }
}
