import Foundation
import Testing

/// The OpenAPI document of the repository, and a check that an answer is one it declares: its
/// path and method, its status, its content type, and its body against the declared schema
/// (types, required and unknown members, enums, the items of arrays).
enum APIDocument {
  static let url = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/PartnerSyncServer/openapi.json")

  static let bytes: Data = (try? Data(contentsOf: url)) ?? Data()

  // Read once and never changed.
  nonisolated(unsafe) static let document: [String: Any] =
    (try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]) ?? [:]

  /// The problems of `response` to `method path` against the document; empty when it conforms.
  static func problems(_ method: String, _ path: String, _ response: HTTPClient.Response) -> [String] {
    let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
    guard let paths = document["paths"] as? [String: Any],
      let template = paths.keys.first(where: { matches(template: $0, path: route) }),
      let item = paths[template] as? [String: Any]
    else { return ["\(route) is not a path of the document"] }
    guard let operation = item[method.lowercased()] as? [String: Any] else {
      return ["\(method) \(template) is not declared"]
    }
    guard let responses = operation["responses"] as? [String: Any],
      let declared = resolve(responses["\(response.status)"]) as? [String: Any]
    else { return ["\(method) \(template) does not declare status \(response.status)"] }
    guard let content = declared["content"] as? [String: Any] else {
      return response.body.isEmpty ? [] : ["\(method) \(template) \(response.status) declares no body"]
    }
    let type = response.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    guard let media = content[type] as? [String: Any] else {
      return ["\(method) \(template) \(response.status) does not declare \(type) (only \(content.keys.sorted()))"]
    }
    guard type.hasSuffix("json") else { return [] }
    guard let value = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) else {
      return ["\(method) \(template) \(response.status): the body is not JSON: \(response.text)"]
    }
    return validate(value, against: media["schema"], at: "body")
  }

  /// Records an issue for each problem of the answer.
  static func expectConforms(
    _ method: String, _ path: String, _ response: HTTPClient.Response, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for problem in problems(method, path, response) {
      Issue.record("not as the OpenAPI document declares: \(problem)", sourceLocation: sourceLocation)
    }
  }

  static func matches(template: String, path: String) -> Bool {
    let a = template.split(separator: "/", omittingEmptySubsequences: false)
    let b = path.split(separator: "/", omittingEmptySubsequences: false)
    guard a.count == b.count else { return false }
    return zip(a, b).allSatisfy { $0.hasPrefix("{") ? !$1.isEmpty : $0 == $1 }
  }

  /// Follows a `$ref` within the document.
  static func resolve(_ value: Any?) -> Any? {
    guard let object = value as? [String: Any], let reference = object["$ref"] as? String else { return value }
    var node: Any? = document
    for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
    return resolve(node)
  }

  static func validate(_ value: Any, against schemaValue: Any?, at place: String) -> [String] {
    guard let schema = resolve(schemaValue) as? [String: Any] else { return [] }
    var problems: [String] = []
    if let type = schema["type"] {
      let types = (type as? [String]) ?? [type as? String ?? ""]
      if !types.contains(where: { isOfType(value, $0) }) { return ["\(place) is not of type \(types): \(value)"] }
    }
    if let options = schema["enum"] as? [Any], !options.contains(where: { "\($0)" == "\(value)" }) {
      problems.append("\(place) is \(value), not one of \(options)")
    }
    if let object = value as? [String: Any] {
      let properties = schema["properties"] as? [String: Any] ?? [:]
      for name in schema["required"] as? [String] ?? [] where object[name] == nil {
        problems.append("\(place) lacks the required member \(name)")
      }
      if schema["additionalProperties"] as? Bool == false {
        for name in object.keys where properties[name] == nil {
          problems.append("\(place) has the undeclared member \(name)")
        }
      }
      for (name, member) in object {
        if let property = properties[name] { problems += validate(member, against: property, at: "\(place).\(name)") }
      }
    }
    if let array = value as? [Any], let items = schema["items"] {
      for (index, element) in array.enumerated() {
        problems += validate(element, against: items, at: "\(place)[\(index)]")
      }
    }
    return problems
  }

  static func isOfType(_ value: Any, _ kind: String) -> Bool {
    switch kind {
    case "object": return value is [String: Any]
    case "array": return value is [Any]
    case "string": return value is String
    case "null": return value is NSNull
    // Foundation reads `true` and `false` as a boolean kind of number.
    case "boolean": return String(describing: type(of: value)).contains("Boolean")
    case "integer":
      guard let number = value as? NSNumber, !isOfType(value, "boolean") else { return false }
      return number.doubleValue.rounded() == number.doubleValue
    case "number": return value is NSNumber && !isOfType(value, "boolean")
    default: return false
    }
  }
}
