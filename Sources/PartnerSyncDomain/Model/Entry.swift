#if canImport(Glibc)
  import Glibc  // memcmp
#else
  import Darwin
#endif

/// The kinds of entry a partner can add to its version of a ticket.
public enum EntryKind: String, Sendable, Hashable, Codable, CaseIterable {
  /// A time entry (`hours` required).
  case time
  /// A note.
  case note
  /// An attachment (`attachmentType` and `name` required).
  case attachment
  /// A charge (`amount` required).
  case charge

  /// The fields an entry of this kind may carry, in the order they are shown.
  public var fields: [EntryField] {
    switch self {
    case .time: [.hours, .title, .text]
    case .note: [.title, .text, .visibility]
    case .attachment: [.attachmentType, .name, .uri, .visibility]
    case .charge: [.amount, .billable, .title]
    }
  }

  /// The fields an event must give when it adds an entry of this kind.
  public var requiredFields: [EntryField] {
    switch self {
    case .time: [.hours]
    case .note: []
    case .attachment: [.attachmentType, .name]
    case .charge: [.amount]
    }
  }

  /// The fields an edit may change on an entry of this kind.
  public var editableFields: [EntryField] {
    switch self {
    case .attachment: [.name, .uri, .visibility]
    case .time, .note, .charge: fields
    }
  }

}

/// A field of an entry, named as in the event format.
public enum EntryField: String, Sendable, Hashable, Codable, CaseIterable {
  /// Hours worked, a number greater than zero.
  case hours
  /// A short title.
  case title
  /// The body text.
  case text
  /// `public` or `internal`.
  case visibility
  /// `file`, `url`, `file-link` or `folder-link`.
  case attachmentType
  /// The attachment's name.
  case name
  /// Where the attachment lives.
  case uri
  /// The charge's amount.
  case amount
  /// Whether the charge is billed to the customer.
  case billable

  /// ``allCases``, made once (`allCases` makes a new array at each use).
  static let every = allCases

}

/// Who may see an entry inside a partner's own system.
public enum Visibility: String, Sendable, Hashable, Codable, CaseIterable {
  /// Shared with every user of the partner's system, customers included.
  case `public`
  /// Internal users only; such an entry never leaves its partner.
  case `internal`
  /// A service partner's item as the lead sees it: internal users only, never on invoices or portals.
  case internalUsersOnly = "internal-users-only"

}

/// The types of attachment.
public enum AttachmentType: String, Sendable, Hashable, Codable, CaseIterable {
  /// An uploaded file; the only type that is copied to the other partner.
  case file
  /// A web address.
  case url
  /// A link to a file elsewhere.
  case fileLink = "file-link"
  /// A link to a folder elsewhere.
  case folderLink = "folder-link"

}

/// The content of an entry: its kind and the fields that apply to it.
///
/// Used for an entry's state, and, with `kind` absent, for the changes an edit makes. Encoded
/// as members named as in the event format, the absent fields absent.
public struct EntryContent: Sendable, Hashable, Codable {
  /// The kind; `nil` only in the changes of an edit.
  public var kind: EntryKind?
  /// Hours worked (time entries; kept on a time entry converted to a note, and on the completion bundle).
  public var hours: Double?
  /// A short title.
  public var title: String?
  /// The body text.
  public var text: String?
  /// Visibility of notes and attachments.
  public var visibility: Visibility?
  /// The attachment's type.
  public var attachmentType: AttachmentType?
  /// The attachment's name.
  public var name: String?
  /// The attachment's address.
  public var uri: String?
  /// The charge's amount.
  public var amount: Double?
  /// Whether the charge is billable.
  public var billable: Bool?

  /// Creates content; every field defaults to absent.
  public init(
    kind: EntryKind? = nil, hours: Double? = nil, title: String? = nil, text: String? = nil,
    visibility: Visibility? = nil, attachmentType: AttachmentType? = nil, name: String? = nil,
    uri: String? = nil, amount: Double? = nil, billable: Bool? = nil
  ) {
    self.kind = kind
    self.hours = hours
    self.title = title
    self.text = text
    self.visibility = visibility
    self.attachmentType = attachmentType
    self.name = name
    self.uri = uri
    self.amount = amount
    self.billable = billable
  }

  /// The fields that are present, in the canonical order of ``EntryField``.
  public var presentFields: [EntryField] {
    EntryField.every.filter(has)
  }

  /// A caption for the entry: its title, else its attachment name, else its text.
  var caption: String? { title ?? name ?? text }

  /// Whether no field (other than `kind`) is present.
  var isEmpty: Bool { !EntryField.every.contains(where: has) }

  /// Whether `field` is present.
  public func has(_ field: EntryField) -> Bool {
    switch field {
    case .hours: hours != nil
    case .title: title != nil
    case .text: text != nil
    case .visibility: visibility != nil
    case .attachmentType: attachmentType != nil
    case .name: name != nil
    case .uri: uri != nil
    case .amount: amount != nil
    case .billable: billable != nil
    }
  }

  /// This content with every field present in `changes` replaced.
  public func applying(_ changes: EntryContent) -> EntryContent {
    var result = self
    result.apply(changes)
    return result
  }

  /// Replaces every field present in `changes`.
  mutating func apply(_ changes: EntryContent) {
    if let v = changes.hours { hours = v }
    if let v = changes.title { title = v }
    if let v = changes.text { text = v }
    if let v = changes.visibility { visibility = v }
    if let v = changes.attachmentType { attachmentType = v }
    if let v = changes.name { name = v }
    if let v = changes.uri { uri = v }
    if let v = changes.amount { amount = v }
    if let v = changes.billable { billable = v }
  }

  /// The content as it is kept when an entry is added: defaults filled in
  /// (`visibility` `public` for notes and attachments, `billable` `true` for charges).
  func withDefaults() -> EntryContent {
    var result = self
    switch kind {
    case .note, .attachment: if result.visibility == nil { result.visibility = .public }
    case .charge: if result.billable == nil { result.billable = true }
    case .time, nil: break
    }
    return result
  }
}

extension RawRepresentable where RawValue == String {
  /// The raw value after its indefinite article: "a note", "an attachment", "an outsourced".
  var withArticle: String {
    (rawValue.first.map("aeiou".contains) == true ? "an " : "a ") + rawValue
  }
}

/// Values read from the bytes of their names: a name is compared byte for byte with the names of
/// its length only.
final class ByteNames<Value: Sendable>: Sendable {
  /// The names' bytes, one after the other, shortest first.
  private let bytes: [UInt8]
  /// Each name's value and where its bytes start, in the same order.
  private let values: [Value]
  private let offsets: [Int]
  /// By length: the index of the first name at least that long (one more than the longest at the end).
  private let starts: [Int]

  /// The names of `values`, each named by `name`.
  init(_ values: some Sequence<Value>, name: (Value) -> String) {
    let named = values.map { (name: Array(name($0).utf8), value: $0) }.sorted { $0.name.count < $1.name.count }
    starts = (0...(named.last?.name.count ?? 0) + 1).map { length in
      named.firstIndex { $0.name.count >= length } ?? named.count
    }
    bytes = named.flatMap(\.name)
    self.values = named.map(\.value)
    offsets = named.indices.map { index in named[..<index].reduce(0) { $0 + $1.name.count } }
  }

  /// The values of `type`, named by their raw values.
  convenience init(_ type: Value.Type)
  where Value: RawRepresentable & CaseIterable, Value.RawValue == String, Value.AllCases: Sequence<Value> {
    self.init(Value.allCases, name: \.rawValue)
  }

  /// The value whose name is the UTF-8 text `text`, or `nil`.
  func value(_ text: UnsafeBufferPointer<UInt8>) -> Value? {
    guard let start = text.baseAddress, text.count + 1 < starts.count else { return nil }
    return bytes.withUnsafeBufferPointer { bytes in
      for index in starts[text.count]..<starts[text.count + 1]
      where bytes[offsets[index]] == start[0] && memcmp(bytes.baseAddress! + offsets[index], start, text.count) == 0 {
        return values[index]
      }
      return nil
    }
  }
}
