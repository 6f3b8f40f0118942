import Glibc

extension String {
    /// Whether both spell the same UTF-8 bytes. Not `==`, which compares by Unicode canonical
    /// equivalence: "\u{212A}" (KELVIN SIGN) would "equal" "K" while a server receives other
    /// bytes. One `memcmp`, where the generic `elementsEqual` walks byte by byte.
    func hasSameBytes(as other: String) -> Bool {
        var mine = self
        var theirs = other
        return mine.withUTF8 { left in
            theirs.withUTF8 { right in
                left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
    }

    /// Whether the UTF-8 bytes of `prefix` begin this string's bytes.
    func hasBytePrefix(_ prefix: String) -> Bool {
        var mine = self
        var start = prefix
        return mine.withUTF8 { whole in
            start.withUTF8 { head in
                head.count <= whole.count && (head.isEmpty || memcmp(whole.baseAddress!, head.baseAddress!, head.count) == 0)
            }
        }
    }

    /// Byte-wise order of the UTF-8 spellings (file-name order as `ls` in the C locale shows
    /// it), not `<`, which orders by Unicode scalars after normalisation.
    func bytePrecedes(_ other: String) -> Bool {
        var mine = self
        var theirs = other
        return mine.withUTF8 { left in
            theirs.withUTF8 { right in
                let common = min(left.count, right.count)
                let order = common == 0 ? 0 : memcmp(left.baseAddress!, right.baseAddress!, common)
                return order != 0 ? order < 0 : left.count < right.count
            }
        }
    }
}
