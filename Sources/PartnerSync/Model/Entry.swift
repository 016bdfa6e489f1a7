/// The kinds of entry a partner can add to its version of a ticket.
public enum EntryKind: String, Sendable, Hashable, CaseIterable {
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
  public var editableFields: [EntryField] { fields.filter { $0 != .attachmentType } }

  /// ``fields`` as a bit set (see ``EntryField/bit``).
  var fieldBits: UInt16 {
    switch self {
    case .time: EntryField.hours.bit | EntryField.title.bit | EntryField.text.bit
    case .note: EntryField.title.bit | EntryField.text.bit | EntryField.visibility.bit
    case .attachment:
      EntryField.attachmentType.bit | EntryField.name.bit | EntryField.uri.bit | EntryField.visibility.bit
    case .charge: EntryField.amount.bit | EntryField.billable.bit | EntryField.title.bit
    }
  }

  /// ``requiredFields`` as a bit set.
  var requiredFieldBits: UInt16 {
    switch self {
    case .time: EntryField.hours.bit
    case .note: 0
    case .attachment: EntryField.attachmentType.bit | EntryField.name.bit
    case .charge: EntryField.amount.bit
    }
  }

  /// ``editableFields`` as a bit set.
  var editableFieldBits: UInt16 { fieldBits & ~EntryField.attachmentType.bit }

  /// Every field (``EntryField/allCases``) as a bit set.
  static let anyFieldBits: UInt16 = EntryField.allCases.reduce(0) { $0 | $1.bit }

  /// The kind whose name is the UTF-8 text `bytes`, or `nil` when there is none.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    let candidate: (EntryKind, StaticString)
    switch (bytes.count, bytes.first) {
    case (4, UInt8(ascii: "t")): candidate = (.time, "time")
    case (4, UInt8(ascii: "n")): candidate = (.note, "note")
    case (10, _): candidate = (.attachment, "attachment")
    case (6, _): candidate = (.charge, "charge")
    default: return nil
    }
    guard bytesEqual(bytes, candidate.1) else { return nil }
    self = candidate.0
  }
}

/// A field of an entry, named as in the event format.
public enum EntryField: String, Sendable, Hashable, CaseIterable {
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

  /// The field's place in `allCases` (0…8).
  var ordinal: Int { bit.trailingZeroBitCount }

  /// The field whose name is the UTF-8 text `bytes`, or `nil` when there is none.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    let candidate: (EntryField, StaticString)
    switch (bytes.count, bytes.first) {
    case (5, UInt8(ascii: "h")): candidate = (.hours, "hours")
    case (5, UInt8(ascii: "t")): candidate = (.title, "title")
    case (4, UInt8(ascii: "t")): candidate = (.text, "text")
    case (10, _): candidate = (.visibility, "visibility")
    case (14, _): candidate = (.attachmentType, "attachmentType")
    case (4, UInt8(ascii: "n")): candidate = (.name, "name")
    case (3, _): candidate = (.uri, "uri")
    case (6, _): candidate = (.amount, "amount")
    case (8, _): candidate = (.billable, "billable")
    default: return nil
    }
    guard bytesEqual(bytes, candidate.1) else { return nil }
    self = candidate.0
  }

  /// The field's bit in a set of fields held in a `UInt16`.
  var bit: UInt16 {
    switch self {
    case .hours: 1
    case .title: 2
    case .text: 4
    case .visibility: 8
    case .attachmentType: 16
    case .name: 32
    case .uri: 64
    case .amount: 128
    case .billable: 256
    }
  }
}

/// Who may see an entry inside a partner's own system.
public enum Visibility: String, Sendable, Hashable, CaseIterable {
  /// Shared with every user of the partner's system, customers included.
  case `public`
  /// Internal users only; such an entry never leaves its partner.
  case `internal`
  /// A service partner's item as the lead sees it: internal users only, never on invoices or portals.
  case internalUsersOnly = "internal-users-only"

  /// The visibility whose name is the UTF-8 text `bytes`, or `nil` when there is none.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    let candidate: (Visibility, StaticString)
    switch bytes.count {
    case 6: candidate = (.public, "public")
    case 8: candidate = (.internal, "internal")
    case 19: candidate = (.internalUsersOnly, "internal-users-only")
    default: return nil
    }
    guard bytesEqual(bytes, candidate.1) else { return nil }
    self = candidate.0
  }
}

/// The types of attachment.
public enum AttachmentType: String, Sendable, Hashable, CaseIterable {
  /// An uploaded file; the only type that is copied to the other partner.
  case file
  /// A web address.
  case url
  /// A link to a file elsewhere.
  case fileLink = "file-link"
  /// A link to a folder elsewhere.
  case folderLink = "folder-link"

  /// The type whose name is the UTF-8 text `bytes`, or `nil` when there is none.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    let candidate: (AttachmentType, StaticString)
    switch bytes.count {
    case 4: candidate = (.file, "file")
    case 3: candidate = (.url, "url")
    case 9: candidate = (.fileLink, "file-link")
    case 11: candidate = (.folderLink, "folder-link")
    default: return nil
    }
    guard bytesEqual(bytes, candidate.1) else { return nil }
    self = candidate.0
  }
}

/// The content of an entry: its kind and the fields that apply to it.
///
/// Used for an entry's state, and, with `kind` absent, for the changes an edit makes.
public struct EntryContent: Sendable, Hashable {
  /// The fields that are not text, and how long each text field is.
  struct Header {
    var kind: EntryKind?
    var visibility: Visibility?
    var attachmentType: AttachmentType?
    var billable: Bool?
    var hours: Double?
    var amount: Double?
    /// The UTF-8 length of each text field, or -1 when it is absent.
    var counts = TextCounts()
  }

  /// The UTF-8 length of each text field (by ``Text``), or -1 when it is absent.
  struct TextCounts: Equatable {
    var title: Int32 = -1
    var text: Int32 = -1
    var name: Int32 = -1
    var uri: Int32 = -1

    subscript(index: Int) -> Int32 {
      switch index {
      case 0: title
      case 1: text
      case 2: name
      default: uri
      }
    }

    /// Where text `index`'s bytes start: after those of the texts before it.
    func start(of index: Int) -> Int {
      var start = 0
      for other in 0..<index { start += Int(max(self[other], 0)) }
      return start
    }

    /// Whether no text is present.
    var isEmpty: Bool { self == TextCounts() }

    /// Text `index`'s bytes in the texts stored from `base`, or `nil` when it is absent.
    func bytes(_ index: Int, in base: UnsafeMutablePointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
      let count = Int(self[index])
      guard count >= 0 else { return nil }
      return UnsafeBufferPointer(start: base + start(of: index), count: count)
    }
  }

  /// The text fields, in the order their bytes are kept.
  enum Text: Int, CaseIterable {
    case title, text, name, uri
  }

  /// A text field's value while content is made: bytes to copy, or a string.
  enum TextSource {
    case bytes(UnsafeBufferPointer<UInt8>)
    case string(String)
  }

  /// The fields, kept in one shared box with the bytes of every text field back to back: an
  /// entry's content is copied often while a history is folded (into the owner's record, its
  /// version, the copies on the other side), and copying the box is one reference count; making
  /// or freeing it is one allocation, whatever texts it holds. A text is made into a `String`
  /// only when it is read. A change copies the box first unless this content is its only holder.
  private final class Storage: ManagedBuffer<Header, UInt8> {

    /// A box of `header`, whose texts are written by `write` (given where their bytes go).
    static func make(
      _ header: Header, write: (UnsafeMutablePointer<UInt8>) -> Void
    ) -> Storage {
      let total = header.counts.start(of: 4)
      let box = unsafeDowncast(create(minimumCapacity: total) { _ in header }, to: Storage.self)
      box.withUnsafeMutablePointerToElements(write)
      return box
    }

    /// The header, read and written in place (the `header` property of a class is checked for
    /// exclusive access at every use).
    var fields: Header {
      @inline(__always) get { withUnsafeMutablePointerToHeader { $0.pointee } }
      @inline(__always) set { withUnsafeMutablePointerToHeader { $0.pointee = newValue } }
    }

    /// Runs `body` with text `index`'s bytes, or `nil` when it is absent.
    @inline(__always)
    func withBytes<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
      let counts = fields.counts
      return withUnsafeMutablePointerToElements { body(counts.bytes(index, in: $0)) }
    }

    func copy() -> Storage {
      let header = fields
      let total = header.counts.start(of: 4)
      return Storage.make(header) { target in
        withUnsafeMutablePointerToElements { target.update(from: $0, count: total) }
      }
    }
  }

  /// The box, held so that content can cross threads.
  private struct Box: @unchecked Sendable {
    // @unchecked Sendable: a box is changed only through its only holder (`unique()`), so a
    // box that two values (or threads) share is never written.
    var storage: Storage
  }

  private var box: Box
  /// The kind, visibility and billability set on this value over the box's (`nil`: the box's
  /// stands): the changes that copying an entry makes (defaults filled in, a time entry shown as
  /// a note, a partner's item made internal-users-only) need no box of their own.
  private var kindOver: EntryKind?
  private var visibilityOver: Visibility?
  private var billableOver: Bool?

  private var storage: Storage {
    @inline(__always) get { box.storage }
  }

  /// The fields that are not text, the values set over the box's applied, and the texts' lengths.
  private var fields: Header {
    var header = storage.fields
    if let kind = kindOver { header.kind = kind }
    if let visibility = visibilityOver { header.visibility = visibility }
    if let billable = billableOver { header.billable = billable }
    return header
  }

  /// Writes `header` into this value's own box, with nothing set over it any more.
  private mutating func setFields(_ header: Header) {
    unique().fields = header
    kindOver = nil
    visibilityOver = nil
    billableOver = nil
  }

  /// The box, copied first when another value shares it.
  @inline(__always)
  private mutating func unique() -> Storage {
    if !isKnownUniquelyReferenced(&box.storage) { box.storage = box.storage.copy() }
    return box.storage
  }

  /// Content of `header` whose texts are `title`, `text`, `name` and `uri` (the counts in
  /// `header` are set from them).
  init(_ header: Header, title: TextSource?, text: TextSource?, name: TextSource?, uri: TextSource?) {
    var header = header
    header.counts = TextCounts(title: title.count, text: text.count, name: name.count, uri: uri.count)
    box = Box(
      storage: Storage.make(header) { target in
        var at = 0
        title.write(to: target, at: &at)
        text.write(to: target, at: &at)
        name.write(to: target, at: &at)
        uri.write(to: target, at: &at)
      })
  }

  /// Runs `body` with the UTF-8 bytes of `text`, or `nil` when it is absent.
  func withBytes<R>(of text: Text, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
    storage.withBytes(text.rawValue, body)
  }

  private func string(_ text: Text) -> String? {
    storage.withBytes(text.rawValue) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
  }

  /// Replaces (or removes) `text`, in a new box.
  private mutating func set(_ text: Text, to value: String?) {
    func source(_ current: Text) -> TextSource? {
      (current == text ? value : string(current)).map(TextSource.string)
    }
    self = EntryContent(
      fields, title: source(.title), text: source(.text), name: source(.name), uri: source(.uri))
  }

  /// The kind; `nil` only in the changes of an edit.
  public var kind: EntryKind? {
    get { kindOver ?? storage.fields.kind }
    set {
      kindOver = newValue
      if newValue == nil { unique().fields.kind = nil }
    }
  }
  /// Hours worked (time entries; kept on a time entry converted to a note, and on the completion bundle).
  public var hours: Double? {
    get { storage.fields.hours }
    set { unique().fields.hours = newValue }
  }
  /// A short title.
  public var title: String? {
    get { string(.title) }
    set { set(.title, to: newValue) }
  }
  /// The body text.
  public var text: String? {
    get { string(.text) }
    set { set(.text, to: newValue) }
  }
  /// Visibility of notes and attachments.
  public var visibility: Visibility? {
    get { visibilityOver ?? storage.fields.visibility }
    set {
      visibilityOver = newValue
      if newValue == nil { unique().fields.visibility = nil }
    }
  }
  /// The attachment's type.
  public var attachmentType: AttachmentType? {
    get { storage.fields.attachmentType }
    set { unique().fields.attachmentType = newValue }
  }
  /// The attachment's name.
  public var name: String? {
    get { string(.name) }
    set { set(.name, to: newValue) }
  }
  /// The attachment's address.
  public var uri: String? {
    get { string(.uri) }
    set { set(.uri, to: newValue) }
  }
  /// The charge's amount.
  public var amount: Double? {
    get { storage.fields.amount }
    set { unique().fields.amount = newValue }
  }
  /// Whether the charge is billable.
  public var billable: Bool? {
    get { billableOver ?? storage.fields.billable }
    set {
      billableOver = newValue
      if newValue == nil { unique().fields.billable = nil }
    }
  }

  /// Creates content; every field defaults to absent.
  public init(
    kind: EntryKind? = nil, hours: Double? = nil, title: String? = nil, text: String? = nil,
    visibility: Visibility? = nil, attachmentType: AttachmentType? = nil, name: String? = nil,
    uri: String? = nil, amount: Double? = nil, billable: Bool? = nil
  ) {
    self.init(
      Header(
        kind: kind, visibility: visibility, attachmentType: attachmentType, billable: billable, hours: hours,
        amount: amount),
      title: title.map(TextSource.string), text: text.map(TextSource.string),
      name: name.map(TextSource.string), uri: uri.map(TextSource.string))
  }

  /// Whether two contents have the same fields (texts compared as strings are).
  public static func == (lhs: EntryContent, rhs: EntryContent) -> Bool {
    if lhs.storage === rhs.storage && lhs.kindOver == rhs.kindOver && lhs.visibilityOver == rhs.visibilityOver
      && lhs.billableOver == rhs.billableOver
    {
      return true
    }
    let l = lhs.fields, r = rhs.fields
    guard
      l.kind == r.kind && l.hours == r.hours && l.visibility == r.visibility
        && l.attachmentType == r.attachmentType && l.amount == r.amount && l.billable == r.billable
    else { return false }
    for text in Text.allCases {
      let sameBytes = lhs.withBytes(of: text) { a in
        rhs.withBytes(of: text) { b in
          guard let a, let b else { return a == nil && b == nil }
          return a.count == b.count && (a.count == 0 || memoryEqual(a.baseAddress!, b.baseAddress!, count: a.count))
        }
      }
      // Texts with different bytes may still be equal strings (canonically equivalent).
      if !sameBytes && lhs.string(text) != rhs.string(text) { return false }
    }
    return true
  }

  /// Hashes every field.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(kind)
    hasher.combine(hours)
    hasher.combine(title)
    hasher.combine(text)
    hasher.combine(visibility)
    hasher.combine(attachmentType)
    hasher.combine(name)
    hasher.combine(uri)
    hasher.combine(amount)
    hasher.combine(billable)
  }

  /// The fields that are present, in the canonical order of ``EntryField``.
  public var presentFields: [EntryField] {
    EntryField.allCases.filter { has($0) }
  }

  /// Whether no field (other than `kind`) is present.
  var isEmpty: Bool { presentFieldBits == 0 }

  /// The fields that are present, as a bit set (see ``EntryField/bit``).
  var presentFieldBits: UInt16 {
    let header = fields
    var bits: UInt16 = 0
    if header.hours != nil { bits |= EntryField.hours.bit }
    if header.counts.title >= 0 { bits |= EntryField.title.bit }
    if header.counts.text >= 0 { bits |= EntryField.text.bit }
    if header.visibility != nil { bits |= EntryField.visibility.bit }
    if header.attachmentType != nil { bits |= EntryField.attachmentType.bit }
    if header.counts.name >= 0 { bits |= EntryField.name.bit }
    if header.counts.uri >= 0 { bits |= EntryField.uri.bit }
    if header.amount != nil { bits |= EntryField.amount.bit }
    if header.billable != nil { bits |= EntryField.billable.bit }
    return bits
  }

  /// Whether `field` is present.
  public func has(_ field: EntryField) -> Bool {
    presentFieldBits & field.bit != 0
  }

  /// This content with every field present in `changes` replaced.
  public func applying(_ changes: EntryContent) -> EntryContent {
    let old = fields, new = changes.fields
    var header = old
    if let v = new.hours { header.hours = v }
    if let v = new.visibility { header.visibility = v }
    if let v = new.attachmentType { header.attachmentType = v }
    if let v = new.amount { header.amount = v }
    if let v = new.billable { header.billable = v }
    guard !new.counts.isEmpty else {
      // No text changes: a new visibility or billability is set over the shared box, any other
      // change written into a box of its own.
      var result = self
      if new.hours != nil || new.attachmentType != nil || new.amount != nil {
        result.setFields(header)
      } else {
        if let v = new.visibility { result.visibility = v }
        if let v = new.billable { result.billable = v }
      }
      return result
    }
    // Each text from the changes when they have it, else from this content: bytes copied once,
    // into the new box.
    return storage.withUnsafeMutablePointerToElements { oldBytes in
      changes.storage.withUnsafeMutablePointerToElements { newBytes in
        func text(_ text: Text) -> TextSource? {
          let index = text.rawValue
          if let bytes = new.counts.bytes(index, in: newBytes) { return .bytes(bytes) }
          return old.counts.bytes(index, in: oldBytes).map(TextSource.bytes)
        }
        return EntryContent(header, title: text(.title), text: text(.text), name: text(.name), uri: text(.uri))
      }
    }
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

extension EntryContent.TextSource? {
  /// The UTF-8 length of the text, or -1 when there is none.
  @inline(__always)
  fileprivate var count: Int32 {
    switch self {
    case .bytes(let bytes): Int32(bytes.count)
    case .string(let string): Int32(string.utf8.count)
    case nil: -1
    }
  }

  /// Copies the text's bytes to `target + at`, and moves `at` past them.
  @inline(__always)
  fileprivate func write(to target: UnsafeMutablePointer<UInt8>, at: inout Int) {
    func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
      if let base = bytes.baseAddress { (target + at).initialize(from: base, count: bytes.count) }
      at += bytes.count
    }
    switch self {
    case .bytes(let bytes): copy(bytes)
    case .string(let string):
      if string.utf8.withContiguousStorageIfAvailable(copy) == nil { Array(string.utf8).withUnsafeBufferPointer(copy) }
    case nil: break
    }
  }
}

/// Kinds of names read from bytes: the value whose raw value `text` is, compared byte for byte
/// (all raw values are ASCII, which is only ever equal to itself).
protocol NamedByRawValue: RawRepresentable, CaseIterable where RawValue == String {
  /// The value whose raw value is the UTF-8 text `bytes`, or `nil`.
  init?(utf8 bytes: UnsafeBufferPointer<UInt8>)
}

extension NamedByRawValue {
  /// The raw value after its indefinite article: "a note", "an attachment", "an outsourced".
  var withArticle: String {
    let vowels: Set<Character> = ["a", "e", "i", "o", "u"]
    return (rawValue.first.map(vowels.contains) == true ? "an " : "a ") + rawValue
  }

  /// The case whose raw value is `text`, or `nil`.
  static func named(_ text: String) -> Self? {
    for candidate in allCases where candidate.rawValue == text {
      return candidate
    }
    return nil
  }
}

extension EntryKind: NamedByRawValue {}
extension Visibility: NamedByRawValue {}
extension AttachmentType: NamedByRawValue {}
extension EventType: NamedByRawValue {}
