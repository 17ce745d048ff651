import Testing
@testable import AccordCore
@Test func smoke() { #expect(1 == 1) }
