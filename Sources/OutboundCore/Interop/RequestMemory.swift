import COutbound

/// The header list and the body of one transfer, laid out in a single allocation: libcurl
/// reads both until the transfer ends and copies neither.
///
/// `curl_slist_append` would make two allocations per header line (the node and a copy of
/// the text) and `curl_slist_free_all` as many frees: a dozen per job. libcurl only reads a
/// CURLOPT_HTTPHEADER list, node by node (`data`, `next`), so the same nodes are built here,
/// in one block with their texts and the body, and freed with it. This memory must never be
/// given to `curl_slist_free_all`. https://curl.se/libcurl/c/CURLOPT_HTTPHEADER.html
struct RequestMemory {
    private let block: UnsafeMutableRawPointer
    /// The first node of the header list; nil when there are no header lines.
    let headerList: UnsafeMutablePointer<curl_slist>?
    /// The body's bytes (CURLOPT_POSTFIELDS); nil when the request has none.
    let body: UnsafeRawPointer?

    /// Block layout: the list's nodes, then each line's bytes with a terminating NUL, then
    /// the body. A header line never holds a NUL (the decoder refuses one).
    init(headerLines: [String], body: [UInt8]?) {
        let nodeBytes = MemoryLayout<curl_slist>.stride * headerLines.count
        var textBytes = 0
        for line in headerLines { textBytes += line.utf8.count + 1 }
        let bodyBytes = body?.count ?? 0
        block = .allocate(byteCount: max(nodeBytes + textBytes + bodyBytes, 1),
                          alignment: MemoryLayout<curl_slist>.alignment)
        let nodes = block.bindMemory(to: curl_slist.self, capacity: headerLines.count)
        var text = (block + nodeBytes).bindMemory(to: CChar.self, capacity: textBytes)
        for (index, line) in headerLines.enumerated() {
            let start = text
            var line = line
            line.withUTF8 { bytes in
                if let base = bytes.baseAddress {
                    UnsafeMutableRawPointer(text).copyMemory(from: base, byteCount: bytes.count)
                }
                text += bytes.count
            }
            text.pointee = 0
            text += 1
            let next = index + 1 < headerLines.count ? nodes + index + 1 : nil
            (nodes + index).initialize(to: curl_slist(data: start, next: next))
        }
        headerList = headerLines.isEmpty ? nil : nodes
        if let body {
            let destination = block + nodeBytes + textBytes
            body.withUnsafeBytes { source in
                if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
            }
            self.body = UnsafeRawPointer(destination)
        } else {
            self.body = nil
        }
    }

    func deallocate() {
        block.deallocate()
    }
}
