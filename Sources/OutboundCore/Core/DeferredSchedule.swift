/// Deferred jobs by due time: a binary min-heap, so the loop can ask "how long until the
/// next one is due" and sleep exactly that long (OpenSMTPD's scheduler habit).
struct DeferredSchedule {
    private var heap: [(due: Double, name: String)] = []
    private var names = Set<String>()

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextDue: Double? { heap.first?.due }

    func contains(_ name: String) -> Bool { names.contains(name) }

    mutating func insert(_ name: String, due: Double) {
        guard names.insert(name).inserted else { return }
        heap.append((due, name))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: Double) -> String? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
                if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        names.remove(first.name)
        return first.name
    }
}
