//! `GET /v2/webhooks`: one page of webhooks.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::request::{decode_data, Request};
use crate::error::{DecodeError, InvalidInput};
use crate::model::{TargetUrlPolicy, Webhook};

/// The smallest `limit` Attio documents.
pub const MIN_LIMIT: u32 = 10;
/// The largest `limit` Attio documents.
pub const MAX_LIMIT: u32 = 100;
/// The `limit` Attio applies when none is sent.
pub const DEFAULT_LIMIT: u32 = 10;

/// Lists the webhooks of the workspace, oldest first, one page at a time.
///
/// `limit` (10..=100, Attio's default 10) and `offset` (default 0) are sent
/// only when set. To walk every page, use [`crate::Client::list_all`].
///
/// ```
/// use attio_webhooks::{operations::ListWebhooks, Request};
/// let page = ListWebhooks::new().limit(50).offset(100);
/// assert_eq!(page.query(), [("limit", "50".to_string()), ("offset", "100".to_string())]);
/// assert!(ListWebhooks::new().query().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListWebhooks {
    /// How many webhooks to return, 10..=100; `None` leaves Attio's default of 10.
    pub limit: Option<u32>,
    /// How many webhooks to skip; `None` leaves Attio's default of 0.
    pub offset: Option<u32>,
}

impl ListWebhooks {
    /// The first page with Attio's default size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size; outside 10..=100 the request fails with
    /// [`InvalidInput::Limit`] before it is sent.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets how many webhooks to skip.
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl Request for ListWebhooks {
    type Response = Vec<Webhook>;
    const NAME: &'static str = "attio.webhooks.list";
    const URL_TEMPLATE: Option<&'static str> = Some("/v2/webhooks");

    fn method(&self) -> Method {
        Method::GET
    }

    fn write_path(&self, out: &mut String) {
        out.push_str("/v2/webhooks");
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(offset) = self.offset {
            query.push(("offset", offset.to_string()));
        }
        query
    }

    fn validate(&self, _targets: &TargetUrlPolicy) -> Result<(), InvalidInput> {
        match self.limit {
            Some(limit) if !(MIN_LIMIT..=MAX_LIMIT).contains(&limit) => {
                Err(InvalidInput::Limit(limit))
            }
            _ => Ok(()),
        }
    }

    fn decode_success(status: StatusCode, body: &Bytes) -> Result<Vec<Webhook>, DecodeError> {
        decode_data(status, body)
    }
}
