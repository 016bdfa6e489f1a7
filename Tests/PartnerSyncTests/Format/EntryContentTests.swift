import Testing

@testable import PartnerSync
@testable import PartnerSyncDomain

/// Entry content: which fields are present, how changes apply, how defaults fill in, and how
/// texts compare and decode.
@Suite("Entry content")
struct EntryContentTests {
  @Test func presentFieldsFollowTheCanonicalOrder() {
    let content = EntryContent(
      kind: .attachment, hours: 2, title: "A title", text: "", visibility: .internal, attachmentType: .file,
      uri: "https://files.example.com/1", amount: -3.5, billable: false)
    #expect(content.presentFields == [.hours, .title, .text, .visibility, .attachmentType, .uri, .amount, .billable])
    #expect(!content.has(.name) && content.has(.text))
    #expect(EntryContent().isEmpty && EntryContent().presentFields.isEmpty && !EntryContent(text: "").isEmpty)
    #expect(EntryContent(kind: .note).isEmpty)
  }

  @Test func applyingReplacesExactlyTheFieldsOfTheChanges() {
    let base = EntryContent(kind: .note, title: "Intro", text: "first text of the note", visibility: .public)
    #expect(base.applying(EntryContent()) == base)
    #expect(
      base.applying(EntryContent(text: "second, and longer, text of the note"))
        == EntryContent(kind: .note, title: "Intro", text: "second, and longer, text of the note", visibility: .public))
    #expect(
      base.applying(EntryContent(visibility: .internal))
        == EntryContent(kind: .note, title: "Intro", text: "first text of the note", visibility: .internal))
    #expect(
      base.applying(EntryContent(hours: 1, title: "", uri: "u"))
        == EntryContent(kind: .note, hours: 1, title: "", text: "first text of the note", visibility: .public, uri: "u")
    )
  }

  @Test func textsCompareAndHashAsStringsDo() {
    let composed = EntryContent(kind: .note, text: "caf\u{E9}")
    let decomposed = EntryContent(kind: .note, text: "cafe\u{301}")
    #expect(composed == decomposed && composed.hashValue == decomposed.hashValue)
    #expect(EntryContent(text: "a") != EntryContent(text: "b"))
    #expect(EntryContent(text: "") != EntryContent())
    #expect(EntryContent(title: "x") != EntryContent(text: "x"))
  }

  @Test func decodedTextsAreThoseOfTheLine() throws {
    let data =
      #"{"entry":"a1","kind":"attachment","attachmentType":"file","name":"r\u00e9sum\u00e9.pdf","uri":"https://x.example/a?b=1"}"#
    let payload = try #require(EventCodecTests.payload(.entryAdded, data: data))
    guard case .entryAdded(_, let content) = payload else {
      Issue.record("not an entry-added payload")
      return
    }
    #expect(content.name == "résumé.pdf" && content.uri == "https://x.example/a?b=1")
    #expect(
      content
        == EntryContent(kind: .attachment, attachmentType: .file, name: "résumé.pdf", uri: "https://x.example/a?b=1"))
  }

  @Test func applyingNeverChangesTheKindAndDefaultsFillOnlyWhatIsAbsent() {
    let base = EntryContent(kind: .time, hours: 2, text: "diag")
    #expect(base.applying(EntryContent(kind: .note, hours: 3)) == EntryContent(kind: .time, hours: 3, text: "diag"))
    #expect(base.withDefaults() == base)
    #expect(EntryContent(kind: .note).withDefaults() == EntryContent(kind: .note, visibility: .public))
    #expect(
      EntryContent(kind: .attachment, visibility: .internal).withDefaults().visibility == .internal)
    #expect(
      EntryContent(kind: .charge, amount: 1).withDefaults() == EntryContent(kind: .charge, amount: 1, billable: true))
    #expect(EntryContent(kind: .charge, amount: 1, billable: false).withDefaults().billable == false)
  }
}
