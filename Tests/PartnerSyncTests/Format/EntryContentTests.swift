import Testing

@testable import PartnerSync

/// Entry content keeps its texts as bytes in one box; these tests hold it to what a value of ten
/// separate fields would do.
@Suite("Entry content")
struct EntryContentTests {
  static let full = EntryContent(
    kind: .attachment, hours: 2, title: "A title longer than fifteen bytes", text: "",
    visibility: .internal, attachmentType: .file, name: "café 😀.txt", uri: "https://files.example.com/1",
    amount: -3.5, billable: false)

  @Test func eachFieldReadsBackAsGivenAndSettingOneLeavesTheOthers() {
    var content = Self.full
    #expect(content.kind == .attachment && content.hours == 2 && content.amount == -3.5 && content.billable == false)
    #expect(content.title == "A title longer than fifteen bytes" && content.text == "")
    #expect(content.name == "café 😀.txt" && content.uri == "https://files.example.com/1")
    #expect(content.visibility == .internal && content.attachmentType == .file)
    let shared = content
    content.text = "now a much longer text than it was before"
    content.name = nil
    content.visibility = .public
    #expect(content.text == "now a much longer text than it was before" && content.name == nil)
    #expect(content.title == "A title longer than fifteen bytes" && content.uri == "https://files.example.com/1")
    #expect(content.visibility == .public && content.hours == 2)
    // The copy taken before is untouched.
    #expect(shared == Self.full && shared.text == "" && shared.name == "café 😀.txt")
    #expect(content.presentFields == [.hours, .title, .text, .visibility, .attachmentType, .uri, .amount, .billable])
    #expect(EntryContent().isEmpty && EntryContent().presentFields.isEmpty && !EntryContent(text: "").isEmpty)
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

  @Test func kindVisibilityAndBillabilitySetOverASharedValueBehaveAsFields() {
    let base = EntryContent(kind: .time, hours: 2, text: "a text longer than fifteen bytes", billable: true)
    var copy = base
    copy.kind = .note
    copy.visibility = .public
    copy.billable = false
    #expect(base.kind == .time && base.visibility == nil && base.billable == true)
    #expect(copy.kind == .note && copy.visibility == .public && copy.billable == false)
    #expect(
      copy
        == EntryContent(
          kind: .note, hours: 2, text: "a text longer than fifteen bytes", visibility: .public, billable: false))
    #expect(
      copy.hashValue
        == EntryContent(
          kind: .note, hours: 2, text: "a text longer than fifteen bytes", visibility: .public, billable: false
        ).hashValue)
    #expect(copy.presentFields == [.hours, .text, .visibility, .billable])
    // Set back, and to nothing.
    copy.billable = true
    copy.visibility = nil
    copy.kind = .time
    #expect(copy == base && copy.visibility == nil)
    copy.kind = nil
    #expect(copy.kind == nil && base.kind == .time && copy != base)
    // A change of another field or a text keeps what was set over the box.
    var edited = base
    edited.visibility = .internal
    edited.hours = 3
    edited.title = "t"
    #expect(edited.visibility == .internal && edited.hours == 3 && edited.title == "t" && edited.kind == .time)
    #expect(
      edited.applying(EntryContent(amount: 1))
        == EntryContent(
          kind: .time, hours: 3, title: "t", text: "a text longer than fifteen bytes", visibility: .internal, amount: 1,
          billable: true))
    #expect(base.applying(EntryContent(visibility: .internal)).visibility == .internal)
    #expect(base.withDefaults() == base)
    #expect(EntryContent(kind: .note).withDefaults() == EntryContent(kind: .note, visibility: .public))
    #expect(
      EntryContent(kind: .charge, amount: 1).withDefaults() == EntryContent(kind: .charge, amount: 1, billable: true))
  }
}
