import Glibc

/// Who runs this process, for the `by` of operator audit lines: the user name of the effective
/// user ID from the password database (getpwuid(3)), or `uid N` when it has no entry (a
/// container's arbitrary UID).
public enum CurrentUser {
    public static func name() -> String {
        let uid = geteuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "uid \(uid)"
    }
}
