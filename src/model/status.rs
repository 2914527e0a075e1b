//! The delivery status of a webhook.

use crate::open_enum::open_enum;

open_enum! {
    /// Whether a webhook receives events.
    ///
    /// Active and degraded webhooks receive events; inactive ones do not. A
    /// webhook turns degraded when a delivery fails all its retries, and
    /// inactive after seven days degraded.
    ///
    /// ```
    /// use attio_webhooks::WebhookStatus;
    /// assert!(WebhookStatus::Degraded.receives_events());
    /// assert!(!WebhookStatus::Inactive.receives_events());
    /// assert_eq!(WebhookStatus::from("paused").as_str(), "paused");
    /// ```
    pub enum WebhookStatus {
        /// `active`: deliveries are succeeding.
        Active => "active",
        /// `degraded`: a delivery exhausted its retries; events are still sent.
        Degraded => "degraded",
        /// `inactive`: degraded for seven days; no events are sent.
        Inactive => "inactive",
    }
}

impl WebhookStatus {
    /// `true` for `active` and `degraded`, the statuses Attio delivers to.
    /// Unknown statuses are treated as not receiving.
    pub fn receives_events(&self) -> bool {
        matches!(self, WebhookStatus::Active | WebhookStatus::Degraded)
    }
}
