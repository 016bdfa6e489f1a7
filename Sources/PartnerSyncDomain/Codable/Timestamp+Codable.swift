// `Codable` for the values of the domain, in the shapes of the contract: an integrator decodes
// the command line's JSON with `JSONDecoder`, and encodes the same documents with `JSONEncoder`.

extension Timestamp: Codable {
  /// Encodes the timestamp as its canonical RFC 3339 string, as the event format writes `at`
  /// ("2026-03-02T09:00:00Z").
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rfc3339)
  }

  /// Decodes an RFC 3339 string, in any form that ``parse(_:)`` accepts.
  /// - Throws: `DecodingError.dataCorrupted` saying why the string is not an RFC 3339 time.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    switch Timestamp.parse(text) {
    case .success(let timestamp): self = timestamp
    case .failure(let error):
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "'\(text)' is not an RFC 3339 time: \(error.message)")
    }
  }
}

/// The names of the contract's JSON members, for the keyed containers of the domain's values.
struct MemberKey: CodingKey, ExpressibleByStringLiteral {
  var stringValue: String
  var intValue: Int? { nil }

  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
  init(stringLiteral value: String) { stringValue = value }
}
