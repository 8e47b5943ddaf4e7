import Foundation

extension NotificationSender {
    /// Delivers the notice, then records each attempt in history as a `notify` or `notify-failed`
    /// event of the run, so a notification that never arrived is found there too. A history that
    /// cannot be written loses only these events: the returned error says so, the run is kept.
    public func announce(_ notice: RunNotice, to notifiers: [Notifier], store: HistoryStore?, user: String)
        async -> (deliveries: [Delivery], historyError: (any Error)?)
    {
        let deliveries = await deliver(notice, to: notifiers)
        guard let store, !deliveries.isEmpty else { return (deliveries, nil) }
        let now = Date()
        let events = deliveries.map { delivery in
            EventRecord(at: now, user: user, action: delivery.error == nil ? .notify : .notifyFailed, policy: notice.policy,
                        runId: notice.runId, detail: "\(delivery.notifier) (\(delivery.condition.rawValue))" + (delivery.error.map { ": " + $0 } ?? ""))
        }
        do {
            try store.recordEvents(events)
            return (deliveries, nil)
        } catch {
            return (deliveries, error)
        }
    }
}
