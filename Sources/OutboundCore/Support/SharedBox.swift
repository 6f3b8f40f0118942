/// An immutable value kept on the heap, so that copies of the struct holding it share one
/// reference instead of retaining each string, array and set inside the value. `Job` and
/// `ClientRecord` keep their fields in one: both are copied along a job's whole path (intake,
/// the dispatch core's actions, outcome records) and never changed.
final class SharedBox<Value: Sendable>: Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
